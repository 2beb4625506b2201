"""Workflow ids of fulfillment: one per order (and one per batch of units that waited for stock),
one per supplier order."""


def fulfillment_workflow_id(order_id: str) -> str:
    return f"fulfillment-{order_id}"


def later_fulfillment_id(order_id: str, supplier_order_id: str) -> str:
    """Units that waited for stock ship in a fulfillment of their own, named after its first supplier order."""
    return f"{fulfillment_workflow_id(order_id)}-{supplier_order_id}"


def supplier_order_number(supplier_order_id: str) -> int | None:
    """n of `{code}-{n}`; None for another shape (an exchange's replacement)."""
    tail = supplier_order_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def supplier_order_workflow_id(supplier_order_id: str) -> str:
    return f"supplier-order-{supplier_order_id}"
