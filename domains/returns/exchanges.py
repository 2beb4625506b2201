"""Exchanges, as pure rules: a return line may ask for another variant of the same product.

The replacement's units are committed in inventory under an owner of the exchange's own
(derived from the return id) when the exchange is approved, so they cannot lapse while the
parcel travels; its supplier order (`{return id}-X`) ships through fulfillment when the return
is received, or at once when the shop trusts the shopper. The swap's price difference is the
two variants' unit prices times the units: charged on approval on a payment of its own when
it is above 0, refunded by the order (under its one cap) with the return's refund when below.
"""

from __future__ import annotations

from .messages import ReturnLine

REPLACEMENT_SUFFIX = "-X"


def stock_owner(return_id: str) -> str:
    """Whose reservations the replacement's units are (inventory and the replacement's fulfillment)."""
    return f"exchange-{return_id}"


def replacement_id(return_id: str) -> str:
    """The replacement's supplier order id (its workflow: supplier-order-{this})."""
    return f"{return_id}{REPLACEMENT_SUFFIX}"


def fulfillment_id(return_workflow_id: str) -> str:
    """The replacement's fulfillment workflow (beside the order's `fulfillment-{order}`)."""
    return f"fulfillment-{return_workflow_id}"


def exchanged(lines: list[ReturnLine]) -> list[ReturnLine]:
    return [li for li in lines if li.exchange is not None]


def difference(lines: list[ReturnLine]) -> int:
    """What the swaps cost more (above 0) or less (below 0), in minor units."""
    return sum((li.exchange.unit_price - li.unit_price) * li.quantity for li in lines if li.exchange is not None)


def units(lines: list[ReturnLine]) -> dict[str, int]:
    """Blank sku -> replacement units to hold and ship."""
    out: dict[str, int] = {}
    for li in lines:
        if li.exchange is not None:
            out[li.exchange.blank_sku] = out.get(li.exchange.blank_sku, 0) + li.quantity
    return out


def came_back_whole(lines: list[ReturnLine]) -> bool:
    """Every unit of every exchanged line arrived (restocked or damaged): the replacement may ship."""
    return all(li.restocked + li.damaged == li.quantity for li in exchanged(lines))
