"""A shop on the time-skipping server for returns: orders placed and delivered, the shop's
return settings set per test, and short ways to open and drive a return."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domains.identity.shop_settings import SETTINGS_ROW, ShopSettings
from domains.inventory import client as inventory
from domains.orders import client as orders
from domains.orders.messages import OrderSettings, OrderStatus, OrderView
from domains.returns import client as returns
from domains.returns.messages import (
    OpenReturn,
    ReceivedLine,
    ReceiveReturn,
    ReturnLineRequest,
    ReturnStatus,
    ReturnView,
)
from infra.store import schema

from ..embedded import load_embedded
from ..orders.conftest import STOCK, OrderShop
from ..shop_harness import running_shop

SHOPPER = "guest:ada@example.com"
SUPPORT = ("staff:sue@example.com", "support")
MANAGER = ("staff:max@example.com", "manager")


class ReturnsShop(OrderShop):
    def settings(self, **returns_policy) -> None:
        value = ShopSettings(**returns_policy).model_dump(mode="json")
        self.store.put(schema.SETTINGS.name, {"name": SETTINGS_ROW, "value": value, "updated_by": "test"})

    async def delivered(self, lines) -> OrderView:
        placed = await self.place(lines)
        return await self.until(placed.order_id, lambda v: v.status == OrderStatus.DELIVERED)

    async def open(self, order: OrderView, *lines: tuple[str, int, str], actor: str = SHOPPER,
                   override: str | None = None, role: str | None = None) -> ReturnView:
        request = OpenReturn(actor=actor, actor_role=role, override_window=override, lines=[
            ReturnLineRequest(line_id=line_id, quantity=n, reason=reason) for line_id, n, reason in lines])
        return await orders.open_return(self.client, order.order_id, request)

    async def ret(self, return_id: str) -> ReturnView:
        return await returns.view(self.client, return_id, self.store)

    async def until_return(self, return_id: str, predicate, limit: int = 200) -> ReturnView:
        for _ in range(limit):
            view = await self.ret(return_id)
            if predicate(view):
                return view
            await self.env.sleep(timedelta(seconds=1))
        raise AssertionError(f"return never got there; last: {view.status}")

    async def receive(self, return_id: str, lines: dict[str, tuple[int, int, int]],
                      who: tuple[str, str] = MANAGER) -> ReturnView:
        request = ReceiveReturn(actor=who[0], actor_role=who[1], lines={
            line_id: ReceivedLine(restock=r, damaged=d, missing=m) for line_id, (r, d, m) in lines.items()})
        return await returns.receive(self.client, return_id, request, self.store)

    async def skip(self, days: int, extra: timedelta = timedelta(0)) -> None:
        """Let `days` pass a day at a time (one long skip can outlast the test server's RPC timeout on a
        busy machine), then `extra`."""
        for _ in range(days):
            await self.env.sleep(timedelta(days=1))
        if extra:
            await self.env.sleep(extra)

    async def running(self, order_id: str) -> bool:
        """The order's workflow is open (asked of Temporal, not of a query a busy worker may not answer in time)."""
        from temporalio.client import WorkflowExecutionStatus

        from domains.orders.ids import order_workflow_id

        described = await self.client.get_workflow_handle(order_workflow_id(order_id)).describe()
        return described.status == WorkflowExecutionStatus.RUNNING

    async def until_closed(self, order_id: str, limit: int = 400) -> OrderView:
        """Let time pass until the order's workflow has ended; its view then (from the store)."""
        for _ in range(limit):
            if not await self.running(order_id):
                return await self.order(order_id)
            await self.env.sleep(timedelta(seconds=1))
        raise AssertionError(f"order {order_id} never closed")

    async def on_hand(self, sku: str) -> int:
        [level] = await inventory.levels(self.client, [sku])
        return level.on_hand


LABELLED = (ReturnStatus.LABEL_ISSUED,)


@pytest.fixture
async def returns_shop(skipping, tmp_path, small_catalog):
    store, index = load_embedded(tmp_path, small_catalog, stock=STOCK)
    async with running_shop(skipping.client, store, index) as shop:
        rs = ReturnsShop(env=skipping, client=skipping.client, store=store, shop=shop, catalog=small_catalog)
        rs.configure(orders_=OrderSettings(flush_delay_seconds=0.2))
        yield rs


from ..orders.conftest import own_server  # noqa: E402,F401  (the crash test's dev server of its own)
