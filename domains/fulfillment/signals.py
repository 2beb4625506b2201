"""The signal fulfillment sends up to the order that started it.

Fulfillment cannot import the order's workflow (orders sit above it), so it declares the
signal here and the order workflow's handler takes its name from this declaration: the
sender names a method, not a string, and the wire name stays the one recorded histories hold.
"""

from __future__ import annotations

from temporalio import workflow

from .messages import SupplierOrderReport

SUPPLIER_ORDER_CHANGED = "supplier_order_changed"


class OrderReports:
    """Implemented by the order workflow (`OrderWorkflow.supplier_order_changed`)."""

    @workflow.signal(name=SUPPLIER_ORDER_CHANGED)
    def supplier_order_changed(self, report: SupplierOrderReport) -> None:
        raise NotImplementedError  # a declaration only: the order workflow handles it
