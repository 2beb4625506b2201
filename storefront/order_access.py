"""Who may see which order, for the order pages and the order API alike.

An order is the caller's when its id is remembered in the session (placed here, or proven
with email + confirmation code), when it belongs to the signed-in shopper
(`request.shopper`, from the session and re-checked against the account), or, for stateless API
clients, when the order's email comes with its code. Anything else is `NotFound`, exactly
as for a code that does not exist, so nobody learns which codes are real.
"""

from __future__ import annotations

import re

from domains.orders import client as orders
from domains.orders import reads
from domains.orders.ids import normalise_confirmation
from domains.orders.lifecycle import PROGRESS
from domains.orders.messages import OrderStatus, OrderView
from infra.store import schema

from . import services

SESSION_KEY = "orders"
MAX_REMEMBERED = 50  # the session is a signed cookie: keep it well under 4 kB
_CODE = re.compile(r"^[A-Z0-9]{4,20}$")
SUMMARY_FIELDS = ("order_id", "confirmation_code", "status", "total", "currency", "placed_at")


class NotFound(Exception):
    """No such order, or not the caller's: one answer for both."""


def shopper_id(request) -> str | None:
    """The signed-in shopper (checked against their account by AccountsMiddleware)."""
    shopper = getattr(request, "shopper", None)
    return shopper.shopper_id if shopper is not None else None


def customer_ids(request) -> list[str]:
    """Whose orders the signed-in shopper owns: their own, and the ones placed as a guest with
    their email once they verified it (the emailed link); none for anyone else."""
    shopper = getattr(request, "shopper", None)
    if shopper is None:
        return []
    guest = shopper.guest_customer_id
    return [shopper.shopper_id, *([guest] if guest else [])]


def remembered(request) -> list[str]:
    value = request.session.get(SESSION_KEY)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def remember(request, order_id: str) -> None:
    """Most recent first; the oldest falls off past MAX_REMEMBERED."""
    current = remembered(request)
    if current[:1] == [order_id]:
        return
    request.session[SESSION_KEY] = [order_id, *(i for i in current if i != order_id)][:MAX_REMEMBERED]


def code_of(confirmation: str | None) -> str | None:
    """A confirmation code as stored (upper case, no dashes or spaces), or None if it cannot be one."""
    code = normalise_confirmation(confirmation or "")
    return code if _CODE.match(code) else None


def same_email(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def lookup(confirmation: str, email: str) -> str | None:
    """The order id when `email` placed the order with this confirmation code, else None."""
    code = code_of(confirmation)
    if code is None or not email.strip():
        return None
    found = reads.order_id_of(services.store(), code)
    if found is None or not same_email(found[1], email):
        return None
    return found[0]


def owned_order(request, confirmation: str, email: str | None = None) -> OrderView:
    """The caller's order with this confirmation code (see the module's rules), else NotFound."""
    code = code_of(confirmation)
    found = reads.order_id_of(services.store(), code) if code else None
    if found is None:
        raise NotFound
    order_id, stored_email = found
    proven = order_id in remembered(request) or bool(email and email.strip() and same_email(stored_email, email))
    if not proven:
        mine = customer_ids(request)
        row = services.store().get(schema.ORDERS.name, {"order_id": order_id}) if mine else None
        if row is None or row.get("customer_id") not in mine:
            raise NotFound
    view = services.call(orders.get_order, services.store(), order_id)
    if view is None:
        raise NotFound
    return view


def actor(request, view: OrderView) -> str:
    """Who is acting, as the order workflow records it."""
    shopper = shopper_id(request)
    if shopper is not None and view.customer_id == shopper:
        return f"shopper:{shopper}"
    return f"guest:{view.email}"


def by_customer(view: OrderView, actor_: str) -> bool:
    """Whether a history entry's actor is the order's own customer (shown as "you")."""
    return actor_ in (view.customer_id, f"shopper:{view.customer_id}", f"guest:{view.email}")


def shopper_visible_history(view: OrderView) -> list:
    """History without staff notes (internal): status changes, fulfillment, refunds, feedback."""
    return [h for h in view.history if h.kind != "note"]


def progress(status: str | OrderStatus) -> int:
    return PROGRESS.get(OrderStatus(status), 0)


def my_orders(request) -> list[dict]:
    """The caller's orders, newest first: the signed-in shopper's (with their guest orders once
    their email is verified) and the session's."""
    store = services.store()
    rows: dict[str, dict] = {}
    for customer in customer_ids(request):
        for row in reads.orders_of(store, customer):
            rows[row["order_id"]] = {k: row.get(k) for k in SUMMARY_FIELDS} | {"progress": row["progress"]}
    missing = [i for i in remembered(request) if i not in rows]
    for row in store.get_many(schema.ORDERS.name, [{"order_id": i} for i in missing]) if missing else []:
        rows[row["order_id"]] = {k: row.get(k) for k in SUMMARY_FIELDS} | {"progress": progress(row["status"])}
    return sorted(rows.values(), key=lambda r: r["placed_at"], reverse=True)
