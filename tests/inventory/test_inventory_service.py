"""The inventory service on a real Temporal server: holds, settlement, expiry, projection,
continue-as-new, and no oversell under a concurrent race."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import pytest
from temporalio.worker import Worker

from domains.inventory import client as inventory
from domains.inventory.client import InventoryError
from domains.inventory.errors import InventoryErrorCode
from domains.inventory.ids import shard_of, shard_workflow_id
from domains.inventory.messages import InventorySettings, InventoryState
from domains.inventory.queue import TASK_QUEUE as INVENTORY_QUEUE
from domains.inventory.workflows import InventoryService
from infra.store.sqlite import SqliteStore
from projections.search.sqlite_fts import SqliteProductIndex
from workers.registry import QUEUES, Dependencies


def empty_shop(tmp_path):
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    index = SqliteProductIndex(tmp_path / "search.sqlite3")
    index.ensure()
    return store, index


@asynccontextmanager
async def inventory_worker(client, store, index):
    """The production inventory queue's workflows and activities (the test's namespace keeps
    the service, under its production id, to this test)."""
    spec = QUEUES[INVENTORY_QUEUE](Dependencies(store=store, index=index, client=client))
    with ThreadPoolExecutor(4) as executor:
        async with Worker(client, task_queue=INVENTORY_QUEUE, workflows=spec.workflows, activities=spec.activities,
                          activity_executor=executor):
            yield


@pytest.fixture
async def service(temporal_env, tmp_path):
    """The inventory service with a worker, and its store."""
    store, index = empty_shop(tmp_path)
    async with inventory_worker(temporal_env.client, store, index):
        yield temporal_env.client, store


async def level(client, sku):
    (lv,) = await inventory.levels(client, [sku])
    return lv


async def test_hold_takes_only_what_is_available(service):
    client, _ = service
    await inventory.set_stock(client, {"SKU-A": 5})
    first = await inventory.hold(client, "cart-1", "SKU-A", 3, 600)
    assert (first.held, first.available) == (3, 2)
    refused = await inventory.hold(client, "cart-2", "SKU-A", 3, 600)
    assert (refused.held, refused.complete) == (0, False)
    partial = await inventory.hold(client, "cart-2", "SKU-A", 3, 600, all_or_nothing=False)
    assert partial.held == 2
    lv = await level(client, "SKU-A")
    assert (lv.on_hand, lv.reserved, lv.available) == (5, 5, 0)


async def test_a_hold_is_absolute_so_a_retry_does_not_double_it(service):
    client, _ = service
    await inventory.set_stock(client, {"SKU-A": 10})
    for _ in range(3):
        await inventory.hold(client, "cart-1", "SKU-A", 4, 600)
    assert (await level(client, "SKU-A")).reserved == 4
    await inventory.hold(client, "cart-1", "SKU-A", 1, 600)  # lowering gives units back
    assert (await level(client, "SKU-A")).available == 9
    await inventory.hold(client, "cart-1", "SKU-A", 0, 600)
    assert await inventory.reservations_of(client, "cart-1") == []


async def test_unknown_sku_and_bad_quantities_are_refused(service):
    client, _ = service
    await inventory.set_stock(client, {"SKU-A": 1})
    with pytest.raises(InventoryError):
        await inventory.hold(client, "cart-1", "NOPE", 1, 600)
    with pytest.raises(InventoryError, match="cannot remove"):
        await inventory.adjust_stock(client, "SKU-A", -5, "shrinkage")


async def test_transfer_is_all_or_nothing(service):
    client, _ = service
    await inventory.set_stock(client, {"A": 2, "B": 1})
    await inventory.hold(client, "cart-1", "A", 2, 600)
    await inventory.hold(client, "someone-else", "B", 1, 600)
    result = await inventory.transfer(client, "cart-1", "checkout-1", {"A": 2, "B": 1}, 600)
    assert (result.ok, result.short) == (False, {"B": 1})
    assert [r.owner for r in await inventory.reservations_of(client, "cart-1")] == ["cart-1"]
    ok = await inventory.transfer(client, "cart-1", "checkout-1", {"A": 2}, 600)
    assert ok.ok
    assert await inventory.reservations_of(client, "cart-1") == []
    assert (await level(client, "A")).reserved == 2


async def test_a_transfer_sent_again_changes_nothing(service):
    """The transfer's activity answer was lost (a killed worker, a restarting server) and the
    cart sent it again: the units are reserved once, and once confirmed and fulfilled nothing
    stays reserved."""
    client, _ = service
    await inventory.set_stock(client, {"A": 10})
    await inventory.hold(client, "cart-1", "A", 2, 600)
    for _ in range(2):
        assert (await inventory.transfer(client, "cart-1", "checkout-1", {"A": 2}, 600)).ok
    assert (await level(client, "A")).reserved == 2
    await inventory.confirm(client, "checkout-1")
    assert (await inventory.transfer(client, "cart-1", "checkout-1", {"A": 2}, 600)).ok  # even after the confirm
    await inventory.fulfil(client, "checkout-1")
    lv = await level(client, "A")
    assert (lv.on_hand, lv.reserved, lv.committed) == (8, 0, 0)


def two_shards():
    """Two SKUs on different shards."""
    n = inventory.shards()
    first = "A"
    other = next(f"B{i}" for i in range(100) if shard_of(f"B{i}", n) != shard_of(first, n))
    return first, other


async def holds_by_owner(client, *owners):
    return {owner: {r.sku: r.quantity for r in await inventory.reservations_of(client, owner)} for owner in owners}


async def test_a_transfer_across_shards_one_of_them_short_leaves_everything_as_it_was(service):
    """The checkout's transfer is a saga over the shards: one shard short, the shard that went
    through gives the new owner's holds back to the old owner, as they were."""
    client, _ = service
    a, b = two_shards()
    await inventory.set_stock(client, {a: 5, b: 3})
    await inventory.hold(client, "cart-1", a, 2, 600)
    await inventory.hold(client, "cart-1", b, 1, 600)
    await inventory.hold(client, "someone-else", b, 2, 600)
    before = {lv.sku: lv for lv in await inventory.levels(client, [a, b])}
    result = await inventory.transfer(client, "cart-1", "checkout-1", {a: 2, b: 2}, 600)
    assert (result.ok, result.short) == (False, {b: 1})
    assert await holds_by_owner(client, "cart-1", "checkout-1") == {"cart-1": {a: 2, b: 1}, "checkout-1": {}}
    assert {lv.sku: lv for lv in await inventory.levels(client, [a, b])} == before
    ok = await inventory.transfer(client, "cart-1", "checkout-1", {a: 2, b: 1}, 600)
    assert ok.ok
    assert await holds_by_owner(client, "cart-1", "checkout-1") == {"cart-1": {}, "checkout-1": {a: 2, b: 1}}
    assert (await level(client, a)).reserved == 2 and (await level(client, b)).reserved == 3


async def test_a_transfer_gives_back_the_old_owners_holds_on_shards_without_lines(service):
    """As the one service did: the old owner's holds the new owner does not take are released,
    on the shards of the SKUs the caller says it held."""
    client, _ = service
    a, b = two_shards()
    await inventory.set_stock(client, {a: 5, b: 5})
    await inventory.hold(client, "cart-1", a, 2, 600)
    await inventory.hold(client, "cart-1", b, 1, 600)
    assert (await inventory.transfer(client, "cart-1", "checkout-1", {a: 2}, 600, held_skus=[a, b])).ok
    assert await holds_by_owner(client, "cart-1", "checkout-1") == {"cart-1": {}, "checkout-1": {a: 2}}
    assert (await level(client, b)).reserved == 0


async def test_a_shard_failing_mid_transfer_is_compensated_and_a_retry_goes_through(service, monkeypatch):
    """One shard's transfer raises (a shard the saga cannot reach): the other shard's part is
    undone, the failure reaches the caller (whose activity retries), and the retry moves every
    hold once."""
    from domains.inventory.workflows import InventoryService

    client, _ = service
    a, b = two_shards()
    failing = shard_of(b, inventory.shards())
    await inventory.set_stock(client, {a: 5, b: 5})
    await inventory.hold(client, "cart-1", a, 2, 600)
    await inventory.hold(client, "cart-1", b, 1, 600)
    real = inventory._update

    async def broken(client, shard, update, arg, n=None):
        if update is InventoryService.transfer and shard == failing:
            raise RuntimeError("shard unreachable")
        return await real(client, shard, update, arg, n)

    monkeypatch.setattr(inventory, "_update", broken)
    with pytest.raises(RuntimeError, match="unreachable"):
        await inventory.transfer(client, "cart-1", "checkout-1", {a: 2, b: 1}, 600)
    assert await holds_by_owner(client, "cart-1", "checkout-1") == {"cart-1": {a: 2, b: 1}, "checkout-1": {}}
    assert (await level(client, a)).reserved == 2 and (await level(client, b)).reserved == 1
    monkeypatch.setattr(inventory, "_update", real)
    assert (await inventory.transfer(client, "cart-1", "checkout-1", {a: 2, b: 1}, 600)).ok
    assert (await inventory.transfer(client, "cart-1", "checkout-1", {a: 2, b: 1}, 600)).ok  # sent again
    assert await holds_by_owner(client, "cart-1", "checkout-1") == {"cart-1": {}, "checkout-1": {a: 2, b: 1}}
    assert (await level(client, a)).reserved == 2 and (await level(client, b)).reserved == 1
    assert (await inventory.confirm(client, "checkout-1")).skus == {a: 2, b: 1}  # asks every shard
    assert (await inventory.confirm(client, "checkout-1", [a, b])).skus == {}  # a retry, asking only the two
    with pytest.raises(InventoryError) as nothing:  # no shard has anything of it: as the one service said
        await inventory.confirm(client, "nobody")
    assert nothing.value.code == InventoryErrorCode.NO_SUCH_RESERVATION
    assert (await inventory.cancel(client, "checkout-1", [b])).skus == {b: 1}  # one supplier order's line
    assert (await inventory.fulfil(client, "checkout-1")).skus == {a: 2}
    with pytest.raises(InventoryError) as settled:
        await inventory.fulfil(client, "checkout-1")
    assert settled.value.code == InventoryErrorCode.NO_SUCH_RESERVATION


async def test_a_retried_transfer_whose_first_part_went_through_still_compensates(service):
    """The saga's first try moved shard A's holds and its answer was lost; shard B is short on
    the retry: A's part is undone from what A reports (the lines), nothing stays with the new owner."""
    from domains.inventory.messages import Transfer
    from domains.inventory.workflows import InventoryService

    client, _ = service
    a, b = two_shards()
    n = inventory.shards()
    await inventory.set_stock(client, {a: 5, b: 1})
    await inventory.hold(client, "cart-1", a, 2, 600)
    await inventory._update(client, shard_of(a, n), InventoryService.transfer,
                            Transfer(from_owner="cart-1", to_owner="checkout-1", lines={a: 2}, ttl_seconds=600), n)
    await inventory.hold(client, "someone-else", b, 1, 600)
    result = await inventory.transfer(client, "cart-1", "checkout-1", {a: 2, b: 1}, 600)
    assert (result.ok, result.short) == (False, {b: 1})
    assert await holds_by_owner(client, "cart-1", "checkout-1") == {"cart-1": {a: 2}, "checkout-1": {}}
    assert (await level(client, a)).reserved == 2


async def test_confirm_fulfil_and_cancel_move_stock_the_right_way(service):
    client, _ = service
    await inventory.set_stock(client, {"A": 10})
    await inventory.hold(client, "order-1", "A", 3, 600)
    await inventory.hold(client, "order-2", "A", 2, 600)
    await inventory.confirm(client, "order-1")
    await inventory.confirm(client, "order-1")  # a retried confirm changes nothing
    await inventory.confirm(client, "order-2")
    lv = await level(client, "A")
    assert (lv.on_hand, lv.reserved, lv.committed, lv.available) == (10, 0, 5, 5)
    await inventory.fulfil(client, "order-1")
    await inventory.cancel(client, "order-2")
    lv = await level(client, "A")
    assert (lv.on_hand, lv.committed, lv.available) == (7, 0, 7)
    with pytest.raises(InventoryError):
        await inventory.fulfil(client, "order-404")


@pytest.fixture
async def skipping_service(skipping, tmp_path):
    """The inventory service on the time-skipping server: the test moves time itself, so a
    hold's expiry never races the machine's load."""
    store, index = empty_shop(tmp_path)
    async with inventory_worker(skipping.client, store, index):
        yield skipping


async def test_lapsed_holds_are_released(skipping_service):
    env = skipping_service
    await inventory.set_stock(env.client, {"A": 1})
    await inventory.hold(env.client, "cart-1", "A", 1, 60)
    assert (await inventory.hold(env.client, "cart-2", "A", 1, 600)).held == 0  # still held
    await env.sleep(120)
    # the next hold sweeps lapsed ones first, so the unit is there for someone else
    assert (await inventory.hold(env.client, "cart-2", "A", 1, 600)).held == 1


async def test_renew_keeps_a_hold_alive(skipping_service):
    env = skipping_service
    await inventory.set_stock(env.client, {"A": 1})
    await inventory.hold(env.client, "cart-1", "A", 1, 60)
    await env.sleep(30)
    await inventory.renew(env.client, "cart-1", 600)
    await env.sleep(120)  # well past the first expiry, well before the renewed one
    assert (await inventory.hold(env.client, "cart-2", "A", 1, 600)).held == 0
    await env.sleep(600)
    assert (await inventory.hold(env.client, "cart-2", "A", 1, 600)).held == 1  # the renewal ends too


async def test_changes_are_projected_to_the_store(service):
    client, store = service
    await inventory.set_stock(client, {"A": 4, "B": 2})
    await inventory.hold(client, "cart-1", "A", 3, 600)
    for _ in range(100):  # A and B may sit on different shards: each projects on its own
        row, other = store.get("stock", {"sku": "A"}), store.get("stock", {"sku": "B"})
        if row and row["reserved"] == 3 and other:
            break
        await asyncio.sleep(0.1)
    assert (row["on_hand"], row["reserved"], row["available"]) == (4, 3, 1)
    assert other["available"] == 2


async def test_fifty_shoppers_racing_for_ten_units_get_exactly_ten(service):
    client, _ = service
    await inventory.set_stock(client, {"LAST": 10})
    results = await asyncio.gather(*(
        inventory.hold(client, f"cart-{i}", "LAST", 1, 600) for i in range(50)))
    assert sum(r.held for r in results) == 10
    lv = await level(client, "LAST")
    assert (lv.reserved, lv.available) == (10, 0)


async def test_two_hundred_shoppers_on_the_servers_default_update_limit_get_exactly_ten(service):
    """The test server keeps Temporal's default of 10 in-flight updates per workflow: the client
    queues one process's updates per shard below it, so none is refused or lost."""
    client, _ = service
    await inventory.set_stock(client, {"LAST": 10})
    results = await asyncio.gather(*(inventory.hold(client, f"cart-{i}", "LAST", 1, 600) for i in range(200)))
    assert sum(r.held for r in results) == 10
    lv = await level(client, "LAST")
    assert (lv.reserved, lv.available) == (10, 0)


async def test_two_hundred_shoppers_over_two_shards_get_exactly_the_twenty_five_units(service):
    client, _ = service
    a, b = two_shards()
    await inventory.set_stock(client, {a: 12, b: 13})
    results = await asyncio.gather(*(inventory.hold(client, f"cart-{i}", (a, b)[i % 2], 1, 600) for i in range(200)))
    assert sum(r.held for r in results) == 25
    assert [(lv.reserved, lv.available) for lv in await inventory.levels(client, [a, b])] == [(12, 0), (13, 0)]


async def test_an_update_the_server_refuses_for_load_is_sent_again_under_the_same_id(monkeypatch):
    """Beyond its in-flight limit (as from many processes at once) the server refuses an
    update-with-start; the SDK raises RPCError RESOURCE_EXHAUSTED. The client sends it again
    after a pause, under the same update id (the server applies an id once), and never sends
    a business refusal again."""
    from temporalio.service import RPCError, RPCStatusCode

    from domains.inventory.messages import HoldResult

    class Refusing:
        def __init__(self, refusals):
            self.refusals, self.ids = refusals, []

        async def execute_update_with_start_workflow(self, update, arg, *, id, start_workflow_operation):
            self.ids.append(id)
            if len(self.ids) <= self.refusals:
                raise RPCError("limit on number of concurrent in-flight updates has been reached (10)",
                               RPCStatusCode.RESOURCE_EXHAUSTED, b"")
            return HoldResult(sku=arg.sku, requested=arg.quantity, held=arg.quantity, available=0)

    monkeypatch.setattr(inventory, "BACKOFF_FIRST", 0.001)
    fake = Refusing(refusals=3)
    result = await inventory.hold(fake, "cart-1", "A", 2, 600)
    assert result.held == 2 and len(fake.ids) == 4 and len(set(fake.ids)) == 1
    monkeypatch.setattr(inventory, "BACKOFF_ATTEMPTS", 2)
    with pytest.raises(RPCError):  # refused for longer than the client waits: the caller hears of it
        await inventory.hold(Refusing(refusals=5), "cart-1", "A", 2, 600)


async def test_state_survives_continue_as_new_under_concurrent_updates(temporal_env, tmp_path):
    store, index = empty_shop(tmp_path)
    settings = InventorySettings(max_updates_per_run=20, flush_delay_seconds=0.2)
    n = inventory.shards()
    shard = shard_of("S0", n)
    skus = [sku for sku in (f"S{i}" for i in range(500)) if shard_of(sku, n) == shard][:5]  # one shard's
    first = await temporal_env.client.start_workflow(InventoryService.run,
                                                     InventoryState(settings=settings, shard=shard, shards=n),
                                                     id=shard_workflow_id(shard), task_queue=INVENTORY_QUEUE)
    async with inventory_worker(temporal_env.client, store, index):
        await inventory.set_stock(temporal_env.client, {sku: 100 for sku in skus})
        results = await asyncio.gather(*(
            inventory.hold(temporal_env.client, f"cart-{i}", skus[i % 5], 1 + i % 3, 600)
            for i in range(90)))
        assert all(r.complete for r in results)
        want = {skus[s]: sum(1 + i % 3 for i in range(90) if i % 5 == s) for s in range(5)}
        got = {lv.sku: lv.reserved for lv in await inventory.levels(temporal_env.client, list(want))}
        assert got == want  # every update applied once, none lost across the runs
        for _ in range(100):  # it continues as new once the last handler has finished
            current = await temporal_env.client.get_workflow_handle(shard_workflow_id(shard)).describe()
            if current.run_id != first.result_run_id:
                break
            await asyncio.sleep(0.1)
        assert current.run_id != first.result_run_id  # it did continue as new on the way


async def test_a_new_service_starts_from_the_stock_the_catalog_load_wrote(temporal_env, tmp_path, small_catalog):
    from domains.catalog.loader import seed_stock

    store, index = empty_shop(tmp_path)
    assert seed_stock(store, small_catalog, units=7) > 0
    assert seed_stock(store, small_catalog, units=50) == 0  # a re-import keeps live counts
    sku = small_catalog.variants[0].blank_sku
    async with inventory_worker(temporal_env.client, store, index):
        result = await inventory.hold(temporal_env.client, "cart-1", sku, 9, 600)
        assert (result.held, result.available) == (0, 7)
        assert (await inventory.hold(temporal_env.client, "cart-1", sku, 7, 600)).held == 7


async def test_an_order_edit_moves_held_units_onto_the_order_and_gives_removed_ones_back_once(service):
    """An order edit (orders' confirm_edit): the edit's held units join the order's confirmed
    ones, removed units are free again, all or nothing, and a retry with the same key applies once."""
    client, _ = service
    await inventory.set_stock(client, {"A": 10, "B": 10})
    for sku, n in (("A", 2), ("B", 3)):
        await inventory.hold(client, "checkout-1", sku, n, 600)
    await inventory.confirm(client, "checkout-1")
    await inventory.hold(client, "checkout-1-edit-1", "A", 1, 600)
    with pytest.raises(InventoryError) as refused:  # more than the edit holds: nothing changes
        await inventory.amend(client, "checkout-1", "checkout-1-edit-1", {"A": 2}, {"B": 1}, "order-1-edit-1")
    assert refused.value.code == "NoSuchReservation"
    assert ((await level(client, "B")).committed, (await level(client, "A")).reserved) == (3, 1)
    for _ in range(2):  # the activity retried after a lost answer
        await inventory.amend(client, "checkout-1", "checkout-1-edit-1", {"A": 1}, {"B": 1}, "order-1-edit-1")
    a, b = await level(client, "A"), await level(client, "B")
    assert (a.committed, a.reserved, a.available) == (3, 0, 7)
    assert (b.committed, b.available) == (2, 8)
    assert {r.sku: r.quantity for r in await inventory.reservations_of(client, "checkout-1")} == {"A": 3, "B": 2}
    assert await inventory.reservations_of(client, "checkout-1-edit-1") == []

async def test_a_running_singleton_hands_its_state_to_the_shards(temporal_env, tmp_path):
    """The move from the one `inventory-service` to the shards: each shard's first run takes its
    part of the running singleton's state (stock, holds, confirmed orders, adjustment keys);
    the singleton refuses changes from then on and ends once every shard has its part."""
    from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
    from temporalio.service import RPCError

    from domains.inventory.ids import INVENTORY_WORKFLOW_ID
    from domains.inventory.messages import AdjustStock, Hold, OwnerRequest, SetStock

    store, index = empty_shop(tmp_path)
    client = temporal_env.client
    a, b = two_shards()
    async with inventory_worker(client, store, index):
        old = await client.start_workflow(InventoryService.run, InventoryState(), id=INVENTORY_WORKFLOW_ID,
                                          task_queue=INVENTORY_QUEUE)  # the shop before this release
        await old.execute_update(InventoryService.set_stock, SetStock(on_hand={a: 5, b: 3}))
        await old.execute_update(InventoryService.hold, Hold(owner="cart-1", sku=a, quantity=2, ttl_seconds=600))
        await old.execute_update(InventoryService.hold, Hold(owner="order-1", sku=b, quantity=1, ttl_seconds=600))
        await old.execute_update(InventoryService.confirm, OwnerRequest(owner="order-1"))
        await old.execute_update(InventoryService.adjust_stock, AdjustStock(sku=a, delta=1, reason="found", key="k1"))

        # the shards start on first use and take the singleton's state: nothing is lost or doubled
        assert (await inventory.hold(client, "cart-2", a, 4, 600)).held == 4  # 6 on hand, cart-1 holds 2
        assert (await inventory.hold(client, "cart-3", a, 1, 600)).held == 0
        assert {r.quantity for r in await inventory.reservations_of(client, "cart-1")} == {2}
        await inventory.adjust_stock(client, a, 1, "found", key="k1")  # applied before the move: not again
        assert (await level(client, a)).on_hand == 6
        assert (await inventory.fulfil(client, "order-1")).skus == {b: 1}  # asks every shard: all start
        lv = await level(client, b)
        assert (lv.on_hand, lv.committed, lv.available) == (2, 0, 2)
        assert [x.reason for x in await inventory.recent_adjustments(client, a)] == ["found"]

        # an old process writing to it is refused (retired), or finds it ended (every shard took its part)
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await old.execute_update(InventoryService.hold,
                                     Hold(owner="late", sku=a, quantity=1, ttl_seconds=600))
        for _ in range(100):
            if (await old.describe()).status == WorkflowExecutionStatus.COMPLETED:
                break
            await asyncio.sleep(0.1)
        assert (await old.describe()).status == WorkflowExecutionStatus.COMPLETED

        # a shard whose hand-over answer was lost (its first run gone before it recorded it: here
        # terminated) reads its part again from the ended singleton, shortly after the move
        await client.get_workflow_handle(shard_workflow_id(shard_of(a, inventory.shards()))).terminate("lost")
        assert (await inventory.hold(client, "cart-4", a, 4, 600)).held == 4  # starts it again: 6 - cart-1's 2
        assert {r.quantity for r in await inventory.reservations_of(client, "cart-1")} == {2}


async def test_during_a_rolling_release_the_calls_stay_on_the_shards(service, monkeypatch):
    """With the new patches held (COMMERCE_HOLD_NEW_PATCHES=1) the previous release's processes
    (ce7518f) route to the shards as this release does: no `inventory-service` starts (the
    release from bf23359 kept to it while held; one started now would hold stock nobody else
    sees), and what was held during the rollout is where the shards' callers look after it."""
    from temporalio.service import RPCError

    from domains.inventory.ids import INVENTORY_WORKFLOW_ID

    client, _ = service
    a, b = two_shards()
    monkeypatch.setenv("COMMERCE_HOLD_NEW_PATCHES", "1")
    await inventory.set_stock(client, {a: 2, b: 2})
    await inventory.hold(client, "cart-1", a, 2, 600)
    assert (await inventory.transfer(client, "cart-1", "checkout-1", {a: 2}, 600)).ok
    await inventory.set_policy(client, b, backorder_limit=1)  # the previous release's features too
    shard = client.get_workflow_handle(shard_workflow_id(shard_of(a, inventory.shards())))
    assert {r.sku: r.quantity for r in await shard.query(InventoryService.reservations_of, "checkout-1")} == {a: 2}
    with pytest.raises(RPCError):
        await client.get_workflow_handle(INVENTORY_WORKFLOW_ID).describe()
    monkeypatch.delenv("COMMERCE_HOLD_NEW_PATCHES")
    assert (await inventory.hold(client, "cart-2", a, 1, 600)).held == 0  # checkout-1 holds both units
    assert {r.sku: r.quantity for r in await inventory.reservations_of(client, "checkout-1")} == {a: 2}
