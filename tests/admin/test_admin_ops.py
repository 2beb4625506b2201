"""The Operations view: first its data functions straight against the dev server (small
workflows on a queue of their own), then the pages through Django's test client, signed in
for real, against the shop's own workflows behind a placed order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from domains.fulfillment.ids import fulfillment_workflow_id, supplier_order_workflow_id
from domains.fulfillment.queue import TASK_QUEUE as FULFILLMENT_QUEUE
from domains.inventory.queue import TASK_QUEUE as INVENTORY_QUEUE
from domains.orders import client as orders
from domains.orders.ids import order_workflow_id
from domains.orders.queue import TASK_QUEUE as ORDERS_QUEUE
from infra import temporal_ops as ops_data
from infra.temporal_ops import BadFilter, WorkflowFilter
from workers.registry import QUEUES

from ..web.accounts import staff_browser
from ..web.dom import parse
from ..web.orders_helpers import eventually, place, run, until
from .ops_workflows import DECLINED, Broken, Busy, Napping, charge, greet

# --- the data functions, on a queue of their own ------------------------------------------

@pytest.fixture(scope="module")
async def world(module_temporal):
    """Busy (an activity done, one failing and pending, a child, a timer, a signal and an
    update applied) and Broken (failed), on a fresh queue with a worker polling it; and one
    workflow stranded on a queue no worker polls."""
    client = module_temporal.client
    queue = f"ops-{uuid.uuid4().hex[:8]}"
    busy_id, broken_id = f"busy-{queue}", f"broken-{queue}"
    stranded = await client.start_workflow(Napping.run, id=f"stranded-{queue}", task_queue=f"stranded-{queue}")
    async with Worker(client, task_queue=queue, workflows=[Busy, Napping, Broken], activities=[greet, charge]):
        busy = await client.start_workflow(Busy.run, "ada", id=busy_id, task_queue=queue)
        await busy.signal(Busy.nudge, 3)
        assert await busy.execute_update(Busy.bump, 4) == 7
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(Broken.run, id=broken_id, task_queue=queue)

        async def charge_failed_once():
            return (await busy.describe()).raw_description.pending_activities

        await eventually(charge_failed_once, lambda pending: pending and pending[0].last_failure.message)
        await eventually(lambda: client.count_workflows(f"TaskQueue='{queue}'"), lambda c: c.count == 3)
        try:
            yield SimpleNamespace(client=client, queue=queue, busy=busy_id, child=f"{busy_id}-child", broken=broken_id,
                                  stranded=f"stranded-{queue}")
        finally:
            await busy.terminate("test over")  # its child goes with it
            await stranded.terminate("test over")


async def test_queue_health_counts_workflows_and_names_the_workers(world):
    healthy, nobody = await ops_data.queues_health(world.client, [world.queue, world.stranded])
    assert (healthy.running, healthy.completed, healthy.failed, healthy.other_closed) == (2, 0, 1, 0)
    assert {p.kind for p in healthy.live_pollers} == {"workflow", "activity"}
    assert all(p.identity and p.last_access and 0 <= p.seconds_ago < 120 for p in healthy.pollers)
    assert not healthy.no_worker and healthy.missing == []
    assert nobody.no_worker and nobody.missing == ["workflow", "activity"] and not nobody.pollers
    assert nobody.running == 1 and nobody.backlog == 1  # its first workflow task waits for a worker

    # two hours from now the failure is outside the last hour
    (later,) = await ops_data.queues_health(world.client, [world.queue], now=datetime.now(UTC) + timedelta(hours=2))
    assert later.failed == 0 and later.running == 2
    assert all(p.stale for p in later.pollers) and later.no_worker  # nobody polled for two hours by then


async def test_closed_counts_fall_back_to_one_count_per_status_without_group_by():
    asked = []

    async def count_workflows(query):
        asked.append(query)
        if "GROUP BY" in query:
            raise RPCError("group by not supported", RPCStatusCode.INVALID_ARGUMENT, b"")
        return SimpleNamespace(count=2 if "'Failed'" in query else 0, groups=[])

    counts = await ops_data.closed_counts(SimpleNamespace(count_workflows=count_workflows), "orders",
                                          datetime(2025, 1, 1, tzinfo=UTC))
    assert counts["Failed"] == 2 and counts["Completed"] == 0 and "Running" not in counts
    assert all("TaskQueue='orders' AND CloseTime > '2025-01-01T00:00:00Z'" in q for q in asked)


async def test_recent_workflows_filter_by_queue_status_type_and_id(world):
    async def ids(**filters) -> set[str]:
        page = await ops_data.recent_workflows(world.client, WorkflowFilter(**filters))
        return {row.id for row in page.rows}

    assert await ids(queues=[world.queue]) == {world.busy, world.child, world.broken}
    assert await ids(queues=[world.queue], status="Failed") == {world.broken}
    assert await ids(queues=[world.queue], workflow_type="Napping") == {world.child}
    assert await ids(id_prefix=world.busy) == {world.busy, world.child}
    (broken,) = (await ops_data.recent_workflows(world.client, WorkflowFilter(id_prefix=world.broken))).rows
    assert (broken.status, broken.workflow_type, broken.task_queue) == ("Failed", "Broken", world.queue)
    assert broken.close_time and broken.history_length >= 3

    first = await ops_data.recent_workflows(world.client, WorkflowFilter(queues=[world.queue]), limit=2)
    assert len(first.rows) == 2 and first.next_page_token
    rest = await ops_data.recent_workflows(world.client, WorkflowFilter(queues=[world.queue]), limit=2,
                                           page_token=first.next_page_token)
    assert {r.id for r in first.rows + rest.rows} == {world.busy, world.child, world.broken}


def test_filters_refuse_values_that_could_break_out_of_the_query():
    every = WorkflowFilter(queues=["a", "b"], status="Running", workflow_type="OrderWorkflow", id_prefix="order-")
    assert every.query() == (
        "(TaskQueue='a' OR TaskQueue='b') AND ExecutionStatus='Running' AND WorkflowType='OrderWorkflow' "
        "AND WorkflowId STARTS_WITH 'order-'")
    for bad in (WorkflowFilter(queues=["x' OR TaskQueue!='x"]), WorkflowFilter(status="Sleeping"),
                WorkflowFilter(id_prefix="a b")):
        with pytest.raises(BadFilter):
            bad.query()


async def test_workflow_detail_shows_what_it_waits_on_and_a_readable_history(world):
    detail = await ops_data.workflow_detail(world.client, world.busy)
    assert (detail.status, detail.workflow_type, detail.task_queue) == ("Running", "Busy", world.queue)
    assert detail.history_length == len(detail.events) and not detail.history_truncated

    (pending,) = detail.pending_activities
    assert pending.activity_type == "charge" and pending.attempt >= 2 and DECLINED in pending.last_failure
    assert pending.scheduled_time is not None
    (timer,) = detail.pending_timers
    assert timer.duration == "1h 30m"
    assert timedelta(minutes=89) < timer.fires_at - detail.start_time < timedelta(minutes=91)
    (child,) = detail.pending_children
    assert (child.workflow_id, child.workflow_type) == (world.child, "Napping")

    def row(kind: str, summary: str):
        return next(e for e in detail.events if e.kind == kind and e.summary.startswith(summary))

    assert row("Workflow execution started", "Busy").detail == '"ada"'
    assert row("Activity task completed", "greet").detail == '"hello ada"'
    assert row("Workflow execution signaled", "nudge").detail == "3"
    assert row("Workflow execution update accepted", "bump").detail == "4"
    assert row("Workflow execution update completed", "bump").detail == "7"
    assert row("Start child workflow execution initiated", "Napping").category == "child"
    assert row("Timer started", "timer").summary.startswith(f"timer {timer.timer_id}: 1h 30m, fires ")

    broken = await ops_data.workflow_detail(world.client, world.broken)
    assert broken.status == "Failed" and not broken.pending_timers
    last = broken.events[-1]
    assert last.failed and last.kind == "Workflow execution failed"
    assert last.detail == "the order book is on fire (Fire)"


async def test_workflow_detail_for_unknown_runs_and_long_histories(world):
    assert await ops_data.workflow_detail(world.client, f"no-such-{uuid.uuid4().hex}") is None
    assert await ops_data.workflow_detail(world.client, world.busy, str(uuid.uuid4())) is None
    with pytest.raises(BadFilter):
        await ops_data.workflow_detail(world.client, world.busy, "not-a-run-id")
    cut = await ops_data.workflow_detail(world.client, world.busy, max_events=3)
    assert cut.history_truncated and [e.id for e in cut.events] == [1, 2, 3]
    assert cut.pending_timers == []  # unknowable from part of the history: the page says so


# --- the pages, against the shop's workflows ----------------------------------------------

def queue_rows(html: str) -> dict:
    return {row.get("data-queue"): row for row in parse(html).find_all("tr", data_queue=True)}


async def test_ops_page_shows_workers_counts_and_recent_workflows(orders_web, order_variant):
    anonymous = await run(Client().get, "/admin/ops/")
    assert anonymous.status_code == 302 and anonymous["Location"] == "/admin/login/?next=%2Fadmin%2Fops%2F"
    support = await run(staff_browser, orders_web, "support")
    assert (await run(support.get, "/admin/ops/")).status_code == 403
    assert (await run(support.get, "/admin/ops/workflows/anything")).status_code == 403

    manager = await run(staff_browser, orders_web, "manager")
    placed = await run(place, Client(), order_variant.id)
    await until(orders_web, placed["order_id"], lambda v: v.status == "in_fulfillment")
    orders_queue, idle = ORDERS_QUEUE, f"idle-{uuid.uuid4().hex[:8]}"
    url = f"/admin/ops/?queue={orders_queue}&queue={idle}"

    async def overview():
        response = await run(manager.get, url)
        assert response.status_code == 200
        return response.content.decode()

    html = await eventually(overview, lambda h: queue_rows(h)[orders_queue].get("data-running") == "1")
    rows = queue_rows(html)
    # every registry queue, plus those asked for
    assert set(rows) == set(QUEUES) | {idle}
    for queue in (orders_queue, "cart", "checkout", INVENTORY_QUEUE):
        row = rows[queue]
        assert {p.get("data-kind") for p in row.find_all(class_="poller")} == {"workflow", "activity"}, queue
        assert int(row.get("data-pollers")) >= 2 and not row.find_all(data_flag=True), queue
    assert rows[idle].find_all(data_flag="no-worker") and rows[idle].get("data-running") == "0"
    assert "no worker" in rows[idle].text

    doc = parse(html)
    (order_row,) = doc.find_all("tr", data_workflow=order_workflow_id(placed["order_id"]))
    assert order_row.get("data-status") == "Running" and "OrderWorkflow" in order_row.text
    link = order_row.find("a").get("href")
    assert link.startswith(f"/admin/ops/workflows/{order_workflow_id(placed['order_id'])}?run_id=")
    assert (await run(manager.get, link)).status_code == 200

    narrowed = parse((await run(manager.get, f"/admin/ops/?type=OrderWorkflow&id=order-{placed['order_id']}"
                                             f"&status=Running")).content.decode())
    assert [r.get("data-workflow") for r in narrowed.find_all("tr", data_workflow=True)] == [
        order_workflow_id(placed["order_id"])]
    assert narrowed.one("input", name="type").get("value") == "OrderWorkflow"

    # one workflow a page: "older" leads to the next one; its link is refused under another filter
    fulfillment_queue = FULFILLMENT_QUEUE
    first = parse((await run(manager.get, f"/admin/ops/?queue={fulfillment_queue}&limit=1")).content.decode())
    older = "/admin/ops/" + first.one("a", id="older").get("href")
    second = parse((await run(manager.get, older)).content.decode())
    seen = [doc.one("tr", data_workflow=True).get("data-workflow") for doc in (first, second)]
    assert seen[0] != seen[1] and all(w.startswith(("fulfillment-", "supplier-order-")) for w in seen)
    assert second.one("a", id="newest") and not first.find_all("a", id="newest")
    assert (await run(manager.get, older.replace(fulfillment_queue, orders_queue))).status_code == 400

    for bad in ("/admin/ops/?status=Sleeping", "/admin/ops/?limit=0", "/admin/ops/?queue=x'%20OR%20'1",
                "/admin/ops/?page=%25%25", "/admin/ops/?page=bm90IGEgdG9rZW4"):
        refused = await run(manager.get, bad)
        assert refused.status_code == 400 and b'id="ops-error"' in refused.content, bad


async def test_workflow_pages_show_pending_work_and_readable_history(orders_web, order_variant):
    owner = await run(staff_browser, orders_web, "owner")
    placed = await run(place, Client(), order_variant.id)
    order_id = placed["order_id"]
    view = await until(orders_web, order_id, lambda v: v.supplier_orders and all(
        so.status == "in_production" for so in v.supplier_orders))
    await orders.add_note(orders_web.client, order_id, "staff:ops@example.com", "gift wrap please")

    page = await run(owner.get, f"/admin/ops/workflows/{order_workflow_id(order_id)}")
    assert page.status_code == 200
    doc = parse(page.content.decode())
    assert doc.one(id="workflow-status").get("data-status") == "Running"
    assert doc.one(id="workflow-type").text == "OrderWorkflow"
    history = doc.one("table", id="history")

    def events(kind: str) -> list[str]:
        return [row.text for row in history.find_all("tr", data_event=kind)]

    assert any("load_settings" in text for text in events("Activity task scheduled"))
    assert any("start_fulfillment" in text for text in events("Activity task completed"))
    assert any("supplier_order_changed" in text for text in events("Workflow execution signaled"))
    (note,) = [t for t in events("Workflow execution update accepted") if "add_note" in t]
    assert "gift wrap please" in note
    assert not events("Workflow task completed")  # hidden unless asked for
    run_id = doc.one(id="workflow-facts").find("code").text
    ui = doc.one("a", id="temporal-ui-link").get("href")
    assert ui == (f"{settings.COMMERCE.temporal_ui_url}/namespaces/{settings.COMMERCE.temporal_namespace}/workflows/"
                  f"{order_workflow_id(order_id)}/{run_id}/history")
    with_tasks = parse((await run(owner.get, f"/admin/ops/workflows/{order_workflow_id(order_id)}?tasks=1"
                                              f"&run_id={run_id}")).content.decode())
    assert with_tasks.find_all("tr", data_event="Workflow task completed")

    # the supplier order sleeps through its production stage (an hour in these tests): a timer
    supplier_order = view.supplier_orders[0].supplier_order_id
    timed = parse((await run(owner.get, f"/admin/ops/workflows/{supplier_order_workflow_id(supplier_order)}"))
                  .content.decode())
    (timer,) = timed.one("table", id="pending-timers").find_all("tr", data_timer=True)
    assert "1h" in timer.text
    parent = fulfillment_workflow_id(order_id)
    assert timed.find("a", href=f"/admin/ops/workflows/{parent}")
    children = parse((await run(owner.get, f"/admin/ops/workflows/{parent}")).content.decode())
    assert {c.get("data-child") for c in children.one("table", id="pending-children").find_all("tr", data_child=True)
            } == {supplier_order_workflow_id(so.supplier_order_id) for so in view.supplier_orders}

    unknown = await run(owner.get, f"/admin/ops/workflows/no-such-{uuid.uuid4().hex}")
    assert unknown.status_code == 404 and b"No such workflow" in unknown.content
    other_run = await run(owner.get, f"/admin/ops/workflows/{order_workflow_id(order_id)}?run_id={uuid.uuid4()}")
    assert other_run.status_code == 404
    garbled = await run(owner.get, f"/admin/ops/workflows/{order_workflow_id(order_id)}?run_id=garbled")
    assert garbled.status_code == 400


async def test_ops_page_shows_the_servers_health_and_a_clear_state_when_it_is_down(orders_web, settings):
    import dataclasses

    from storefront import services

    manager = await run(staff_browser, orders_web, "manager")
    up = parse((await run(manager.get, "/admin/ops/")).content.decode())
    health = up.one("section", id="cluster-health")
    assert health.get("data-serving") == "yes" and up.one(id="cluster-state").text.strip() == "serving"
    # the dev server names its version and its persistence (SQLite); the queues follow
    assert up.one(id="cluster-version").text.strip()[0].isdigit()
    assert up.one(id="cluster-persistence").text.strip()
    assert up.one("table", id="queues") and up.one(id="ops-totals")

    # the same page with the server unreachable: a page saying so, not a 503 or a hang
    settings.COMMERCE = dataclasses.replace(settings.COMMERCE, temporal_address="127.0.0.1:1")
    services.temporal.cache_clear()
    down = await run(manager.get, "/admin/ops/")
    assert down.status_code == 200
    doc = parse(down.content.decode())
    assert doc.one("section", id="cluster-health").get("data-serving") == "no"
    assert doc.one(id="cluster-state").text.strip() == "unreachable"
    assert "127.0.0.1:1" in doc.one("section", id="cluster-health").text and doc.one(id="cluster-error").text.strip()
    assert not doc.find_all("table", id="queues") and not doc.find_all(id="ops-totals")
