"""Recorded histories of the main paths must replay on today's workflow code.

A change that would make a running cart, checkout, order, fulfillment, the inventory service, an identity,
a cadence or a return workflow non-deterministic fails here (use workflow.patched for such changes, then
re-record with `python -m tests.replay.record`, and `python -m tests.replay.record_returns` for returns,
`record_exchanges` for an exchange).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domains.cadences.workflows import CadenceWorkflow, EnrollmentWorkflow, UnsubscribeWorkflow
from domains.cart.workflows import CartWorkflow
from domains.catalog.workflows import ReindexCatalog
from domains.checkout.workflows import CheckoutWorkflow
from domains.fulfillment.workflows import FulfillmentWorkflow, SupplierOrderWorkflow
from domains.identity.workflows import ApiTokenWorkflow, ShopperWorkflow, ShopSettingsWorkflow, StaffWorkflow
from domains.inventory.shard_workflow import InventoryShard
from domains.inventory.workflows import InventoryService
from domains.orders.workflows import OrderWorkflow
from domains.returns.workflows import ReturnWorkflow

from ..servers import shop_converter

ROOT = Path(__file__).resolve().parent / "histories"
# Today's recordings, plus those of the last release in a folder each (e.g. before-identity/),
# which workflows still running from that release must keep replaying.
HISTORIES = sorted(ROOT.glob("**/*.json"))
WORKFLOWS = [CartWorkflow, CheckoutWorkflow, OrderWorkflow, FulfillmentWorkflow, SupplierOrderWorkflow,
             InventoryService, InventoryShard, ReindexCatalog, ShopperWorkflow, StaffWorkflow, ApiTokenWorkflow,
             ShopSettingsWorkflow, CadenceWorkflow, EnrollmentWorkflow, UnsubscribeWorkflow, ReturnWorkflow]


def test_histories_cover_the_main_paths():
    kinds = {p.stem.rsplit("-", 1)[0] for p in HISTORIES if p.parent == ROOT}
    assert {"cart", "checkout", "order", "fulfillment", "supplier_order", "inventory",
            "shopper", "staff", "api_token", "shop_settings", "cadence_definition", "enrollment",
            "cadence_unsubscribe", "return", "order_returns"} <= kinds  # the last two: record_returns.py


@pytest.mark.parametrize("path", HISTORIES, ids=[str(p.relative_to(ROOT).with_suffix("")) for p in HISTORIES])
async def test_history_replays_deterministically(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    # the shop's converter: its codec passes these plain (pre-codec) payloads through
    replayer = Replayer(workflows=WORKFLOWS, data_converter=shop_converter())
    await replayer.replay_workflow(history)  # raises on any non-determinism


OUT_OF_ORDER = ROOT / "before-hardening" / "order-out-of-order.json"
RANK = ["pending", "accepted", "in_production", "shipped", "delivered"]  # the stages, written out here


async def test_an_order_that_got_its_reports_out_of_order_replays():
    """Recorded by tests/replay/record_out_of_order.py on the code before the hardening: a supplier
    order's reports reached the order as a stage and then an earlier one. Today's code replays it
    (the order applied them as they came then, and a running order of that release carries on)."""
    import json

    history = WorkflowHistory.from_json("order-out-of-order", OUT_OF_ORDER.read_text())
    seen: dict[str, list[str]] = {}
    codec = shop_converter().payload_codec
    assert codec is not None
    for event in history.events:
        if event.HasField("workflow_execution_signaled_event_attributes"):
            signal = event.workflow_execution_signaled_event_attributes
            if signal.signal_name == "supplier_order_changed":
                (opened,) = await codec.decode([signal.input.payloads[0]])  # plain ones pass through
                report = json.loads(opened.data)
                seen.setdefault(report["supplier_order_id"], []).append(report["status"])
    went_back = {so: s for so, s in seen.items() if [RANK.index(x) for x in s] != sorted(RANK.index(x) for x in s)}
    assert went_back, f"the recording should show a report overtaken by a later one: {seen}"
    await Replayer(workflows=[OrderWorkflow], data_converter=shop_converter()).replay_workflow(history)
