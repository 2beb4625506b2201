"""The order workflow. Here it records that the order was placed and answers queries;
the order-management work (routing, fulfillment, cancel, refund) grows it."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from .messages import OrderRecord, OrderStatus, OrderView


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: OrderRecord) -> None:
        self.order = order
        self.status = OrderStatus.PLACED

    @workflow.query
    def view(self) -> OrderView:
        o = self.order
        return OrderView(order_id=o.order_id, confirmation_code=o.confirmation_code, status=self.status,
                         placed_at=o.placed_at, total=o.total, currency=o.currency)

    @workflow.run
    async def run(self, order: OrderRecord) -> OrderView:
        return self.view()
