"""Staff roles, what each may do, and the scopes an API token can carry.

One table answers every "may this person do that" question: the admin panel, the JSON
API and the CLI all ask `allowed(role, permission)`, so a role means the same everywhere.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    SUPPORT = "support"
    FULFILLMENT = "fulfillment"


class Permission(StrEnum):
    DASHBOARD = "dashboard:read"
    ORDERS_READ = "orders:read"
    ORDERS_NOTE = "orders:note"
    ORDERS_CANCEL = "orders:cancel"
    ORDERS_REFUND = "orders:refund"
    FULFILLMENT_WRITE = "fulfillment:write"
    INVENTORY_READ = "inventory:read"
    INVENTORY_WRITE = "inventory:write"
    CARTS_READ = "carts:read"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    TOKENS_MANAGE = "tokens:manage"
    STAFF_MANAGE = "staff:manage"
    SETTINGS_WRITE = "settings:write"
    OPS_READ = "ops:read"
    CADENCES_READ = "cadences:read"  # see cadences, their enrollments and timelines
    CADENCES_ENROLL = "cadences:enroll"  # enroll contacts; pause, resume, cancel an enrollment
    CADENCES_WRITE = "cadences:write"  # create and edit cadences
    WEBHOOKS_READ = "webhooks:read"  # see webhook endpoints and their delivery logs
    WEBHOOKS_WRITE = "webhooks:write"  # register, ping, disable endpoints; redeliver events
    # approve, reject, mark in transit and receive returns; refunding one above the shop's
    # support_refund_limit also needs ORDERS_REFUND (manager, owner)
    RETURNS_WRITE = "returns:write"


_ORDERS = {Permission.ORDERS_READ, Permission.ORDERS_NOTE, Permission.ORDERS_CANCEL, Permission.ORDERS_REFUND}
_INVENTORY = {Permission.INVENTORY_READ, Permission.INVENTORY_WRITE}
_CATALOG = {Permission.CATALOG_READ, Permission.CATALOG_WRITE}
_CADENCES = {Permission.CADENCES_READ, Permission.CADENCES_ENROLL, Permission.CADENCES_WRITE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    # Runs the shop day to day: orders, stock, catalog, email cadences, webhooks; issues API tokens, watches
    # operations.
    Role.MANAGER: frozenset({Permission.DASHBOARD, *_ORDERS, Permission.RETURNS_WRITE, Permission.FULFILLMENT_WRITE,
                             *_INVENTORY, Permission.CARTS_READ, *_CATALOG, *_CADENCES, Permission.TOKENS_MANAGE,
                             Permission.OPS_READ, Permission.WEBHOOKS_READ, Permission.WEBHOOKS_WRITE}),
    # Answers customers: reads orders, writes notes, cancels, handles returns (a refund above the
    # shop's support_refund_limit waits for a manager); never refunds after delivery otherwise. Sees the
    # cadences and can stop or pause a customer's emails, but does not write the cadences.
    Role.SUPPORT: frozenset({Permission.DASHBOARD, Permission.ORDERS_READ, Permission.ORDERS_NOTE,
                             Permission.ORDERS_CANCEL, Permission.RETURNS_WRITE, Permission.CADENCES_READ,
                             Permission.CADENCES_ENROLL}),
    # Packs and ships: sees the orders it works on, moves manual fulfillment stages, nothing else.
    Role.FULFILLMENT: frozenset({Permission.ORDERS_READ, Permission.FULFILLMENT_WRITE}),
}


def allowed(role: Role | str | None, permission: Permission | str) -> bool:
    if role is None:
        return False
    try:
        return Permission(permission) in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


class Scope(StrEnum):
    """What an API token may do; a token carries one or more."""

    SEARCH_READ = "search:read"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    FULFILLMENT_WRITE = "fulfillment:write"
    CADENCES_READ = "cadences:read"
    CADENCES_WRITE = "cadences:write"  # create and edit cadences, enroll, pause, resume, cancel
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"  # register endpoints, ping, disable, redeliver
    OPS_READ = "ops:read"  # read Temporal's payloads through the codec endpoint (e.g. the `temporal` CLI)
