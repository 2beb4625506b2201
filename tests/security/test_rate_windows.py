"""The shared limiter's arithmetic, on the real store: N per duration, a burst across a
window edge still refused, allowed again once the duration has passed."""

from __future__ import annotations

from infra.store.sqlite import SqliteStore
from storefront import rate_limit

EDGE = 1_800_000_000  # a window start for a 60 s duration (divisible by 60)


def _store(tmp_path) -> SqliteStore:
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    return store


def _hits(store, times, limit=3, client="10.0.0.1"):
    return [rate_limit.hit("sign_in", client, limit, 60, store=store, now=t) for t in times]


def test_the_limit_holds_within_a_window_and_says_when_to_come_back(tmp_path):
    decisions = _hits(_store(tmp_path), [EDGE + 10 + i for i in range(5)])
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert decisions[3].retry_after == 60 - 13


def test_a_burst_across_a_window_edge_is_still_refused(tmp_path):
    decisions = _hits(_store(tmp_path), [EDGE - 1.0, EDGE - 0.5, EDGE - 0.1, EDGE + 0.1, EDGE + 0.5])
    assert [d.allowed for d in decisions] == [True, True, True, False, False]


def test_clients_and_limits_are_counted_apart(tmp_path):
    store = _store(tmp_path)
    _hits(store, [EDGE + 1] * 3, client="a")
    assert _hits(store, [EDGE + 2], client="b")[0].allowed
    assert rate_limit.hit("order_lookup", "a", 3, 60, store=store, now=EDGE + 2).allowed


def test_a_client_is_allowed_again_once_a_whole_duration_has_passed(tmp_path):
    store = _store(tmp_path)
    _hits(store, [EDGE + 50 + i * 0.1 for i in range(3)])
    assert not _hits(store, [EDGE + 70])[0].allowed  # most of the last minute still counts
    assert _hits(store, [EDGE + 60 + 59])[0].allowed  # little of it does now
    assert _hits(store, [EDGE + 180])[0].allowed
    rows = store.query("rate_windows", {"bucket": "sign_in:10.0.0.1"})
    assert len(rows) <= 2  # old windows are deleted as new ones start


def test_a_store_outage_lets_requests_through_rather_than_failing_them(tmp_path):
    store = _store(tmp_path)
    store.close()
    (tmp_path / "store.sqlite3").unlink()
    (tmp_path / "store.sqlite3").mkdir()  # the file is gone and cannot be made again: every call fails
    assert all(d.allowed for d in _hits(store, [EDGE + 1] * 5))
