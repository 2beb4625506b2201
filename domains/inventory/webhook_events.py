"""The `data` of the inventory's webhook event (`stock.low`), owned here where it is emitted."""

from __future__ import annotations

from ..webhooks.payloads import EventData


class StockLowData(EventData):
    """`data` of `stock.low` (version 1): the SKU's levels as projected, and the shop's threshold
    that `available` fell to or below."""

    sku: str
    on_hand: int
    reserved: int
    committed: int
    available: int
    threshold: int
