"""The SKU page's per-location forms: move units between locations, count a location, and the
SKU's backorder / preorder policy. Checked here, applied by the SKU's inventory shard.

Every form carries an idempotency key made when the page was drawn (`adjust.KEY_PATTERN`), sent
on as `admin-move:<key>` / `admin-count:<key>`, so a double submit or a retry applies once; the
actor (`staff:<email>`) goes with the move and the count, which the shard records. The policy is
absolute (the same form sent twice sets the same values), so it needs no key of the shard's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from django.http import QueryDict
from temporalio.client import Client

from domains.inventory import client as inventory
from domains.inventory import locations as registry
from domains.inventory.messages import StockLevel
from infra.store import Store, schema

from ... import services
from ...api.shop_errors import http_of
from .adjust import KEY_PATTERN, MAX_DELTA, AdjustRefused

WHOLE = re.compile(r"^\d{1,9}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Move:
    from_location: str
    to_location: str
    quantity: int
    key: str


@dataclass(frozen=True)
class Count:
    location: str
    counted: int
    key: str


@dataclass(frozen=True)
class Policy:
    backorder_limit: int
    preorder_until: datetime | None
    key: str


def _key(form: QueryDict) -> str:
    key = form.get("key", "").strip()
    if not KEY_PATTERN.match(key):
        raise AdjustRefused(400, "This form has expired; reload the page and try again.")
    return key


def _units(form: QueryDict, field: str, label: str, lowest: int) -> int:
    raw = form.get(field, "").strip()
    if not WHOLE.match(raw):
        raise AdjustRefused(400, f"{label} must be a whole number of units (like 5), not {raw!r}.")
    n = int(raw)
    if n < lowest:
        raise AdjustRefused(400, f"{label} must be at least {lowest}.")
    if n > MAX_DELTA:
        raise AdjustRefused(400, f"{label} is at most {MAX_DELTA:,} units.")
    return n


def active_location(store: Store, location_id: str, what: str = "Location") -> str:
    """A location the form may name: it exists and is active (else a 404 / 409 refusal)."""
    if not location_id:
        raise AdjustRefused(400, f"Choose the {what.lower()}.")
    loc = registry.get_location(store, location_id)
    if loc is None:
        raise AdjustRefused(404, f"No location {location_id!r}.")
    if not loc.active:
        raise AdjustRefused(409, f"{loc.name} ({loc.id}) is not active: activate it first.")
    return loc.id


def parse_move(store: Store, form: QueryDict) -> Move:
    source = active_location(store, form.get("from_location", "").strip(), "location to move from")
    target = active_location(store, form.get("to_location", "").strip(), "location to move to")
    if source == target:
        raise AdjustRefused(400, "Choose two different locations.")
    return Move(source, target, _units(form, "quantity", "The quantity to move", 1), _key(form))


def parse_count(store: Store, form: QueryDict) -> Count:
    location = active_location(store, form.get("location", "").strip(), "location counted")
    return Count(location, _units(form, "counted", "The count", 0), _key(form))


def parse_policy(form: QueryDict, today: date | None = None) -> Policy:
    limit = _units(form, "backorder_limit", "The backorder limit", 0)
    raw = form.get("preorder_until", "").strip()
    until = None
    if raw:
        if not DAY.match(raw):
            raise AdjustRefused(400, f"The preorder date is a day like 2027-03-01, not {raw!r}.")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise AdjustRefused(400, f"There is no day {raw}.") from None
        if day <= (today or datetime.now(UTC).date()):
            raise AdjustRefused(400, "A preorder date is a day after today (leave it empty for no preorder).")
        until = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return Policy(limit, until, _key(form))


def _known(store: Store, sku: str) -> None:
    if store.get(schema.STOCK.name, {"sku": sku}) is None:
        raise AdjustRefused(400, f"Unknown SKU {sku!r}.")


def _refused(exc: inventory.InventoryError) -> AdjustRefused:
    status, _ = http_of(exc.code)
    return AdjustRefused(status, f"Refused: {exc}.")


T = TypeVar("T")


def _on_inventory(store: Store, sku: str, call: Callable[[Client], Awaitable[T]]) -> T:
    """One inventory call for a known SKU; a refusal becomes the form's 4xx."""
    _known(store, sku)
    try:
        return services.temporal().run(call)
    except inventory.InventoryError as exc:
        raise _refused(exc) from None


def apply_move(store: Store, sku: str, move: Move, actor: str) -> None:
    _on_inventory(store, sku, lambda client: inventory.move_stock(
        client, sku, move.from_location, move.to_location, move.quantity, f"admin-move:{move.key}", actor))


def apply_count(store: Store, sku: str, count: Count, actor: str) -> StockLevel:
    return _on_inventory(store, sku, lambda client: inventory.count_stock(
        client, sku, count.location, count.counted, f"admin-count:{count.key}", actor))


def apply_policy(store: Store, sku: str, policy: Policy, actor: str) -> StockLevel:
    return _on_inventory(store, sku, lambda client: inventory.set_policy(
        client, sku, backorder_limit=policy.backorder_limit, preorder_until=policy.preorder_until, actor=actor))
