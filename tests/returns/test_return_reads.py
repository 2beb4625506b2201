"""What the admin reads of returns: the shop's list by status, reason and age (from the order index), an order's
returns, and the order index filtered by return state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domains.orders.projection import rebuild_order_index
from domains.returns import reads
from domains.returns.messages import ReturnStatus
from projections.orders import OrderQuery
from projections.orders.sqlite_index import SqliteOrderIndex


async def test_returns_are_listed_by_status_reason_and_age_and_orders_by_return_state(returns_shop, tmp_path):
    shop = returns_shop
    shop.settings(auto_approve_reasons=["too_small"])
    a, b = shop.variants_of_brands(2)
    kept = await shop.delivered([(a, 1)])
    order = await shop.delivered([(a, 2), (b, 1)])
    small = await shop.open(order, ("L1", 1, "too_small"))
    mind = await shop.open(order, ("L2", 1, "changed_mind"))
    await shop.until_return(small.return_id, lambda v: v.status == ReturnStatus.LABEL_ISSUED)
    await shop.until_return(mind.return_id, lambda v: v.status == ReturnStatus.REQUESTED)
    ix = shop.shop.order_index
    for _ in range(100):  # each return's save writes its row and its document (after the label, for the approved one)
        ix.refresh()
        rows = {r.return_id: r.status for r in reads.search_returns(shop.store, ix)[0]}
        if rows == {small.return_id: ReturnStatus.LABEL_ISSUED, mind.return_id: ReturnStatus.REQUESTED}:
            break
        await shop.env.sleep(timedelta(seconds=1))

    everything, more = reads.search_returns(shop.store, ix)
    assert [r.return_id for r in everything] == [mind.return_id, small.return_id] and more is None  # newest first
    labelled, _ = reads.search_returns(shop.store, ix, status="label_issued")
    assert [r.return_id for r in labelled] == [small.return_id]
    by_reason, _ = reads.search_returns(shop.store, ix, reason="changed_mind")
    assert [r.return_id for r in by_reason] == [mind.return_id]
    first, cursor = reads.search_returns(shop.store, ix, limit=1)
    rest, end = reads.search_returns(shop.store, ix, limit=1, cursor=cursor)
    assert [r.return_id for r in first + rest] == [mind.return_id, small.return_id] and end is None
    later = datetime.now(UTC) + timedelta(days=3)
    assert [r.return_id for r in reads.search_returns(shop.store, ix, min_age_days=2, now=later)[0]] == \
        [mind.return_id, small.return_id]
    assert reads.search_returns(shop.store, ix, min_age_days=2)[0] == []
    # A lost index is rebuilt from the store (`reindex --orders`, a restore): the returns list comes back.
    fresh = SqliteOrderIndex(tmp_path / "rebuilt.sqlite3")
    assert reads.search_returns(shop.store, fresh)[0] == []
    rebuild_order_index(shop.store, fresh)
    assert [r.return_id for r in reads.search_returns(shop.store, fresh, reason="changed_mind")[0]] == \
        [mind.return_id]
    fresh.close()
    assert {r.return_id for r in reads.returns_of_order(shop.store, order.order_id)} == {small.return_id,
                                                                                        mind.return_id}

    await shop.until(order.order_id, lambda v: len(v.returns) == 2 and v.return_state == "partially_returned")
    for _ in range(100):  # the order's save projects it
        hits = shop.shop.order_index.search_orders(OrderQuery(return_states=["partially_returned"])).hits
        if hits:
            break
        await shop.env.sleep(timedelta(seconds=1))
    assert [h.order_id for h in hits] == [order.order_id]
    none = shop.shop.order_index.search_orders(OrderQuery(return_states=[""])).hits
    assert [h.order_id for h in none] == [kept.order_id]
