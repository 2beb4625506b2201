"""Workflow ids of fulfillment: one per order, one per supplier order."""


def fulfillment_workflow_id(order_id: str) -> str:
    return f"fulfillment-{order_id}"


def supplier_order_workflow_id(supplier_order_id: str) -> str:
    return f"supplier-order-{supplier_order_id}"
