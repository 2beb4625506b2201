"""`Idempotency-Key` on mutating calls: a retry gets the first final answer, not a second effect.

The rules (after Stripe's):
- Only final answers are stored: 2xx and 4xx, with a hash of method + path + body. A 5xx, a
  Temporal outage or a timeout releases the key, so the retry runs again; the workflows are
  idempotent, so it finds the work already done (a retried submit answers with its order).
- A request in flight holds a lease of `LEASE` (`409 request_in_progress` meanwhile). A lease
  left by a dead process expires and the next request takes the key over by compare-and-set.
- The same key with another body is refused: `422 idempotency_key_reused`.
- Keys expire after `EXPIRY` (a TTL on Cassandra; an expiry check and a purge on SQLite); an
  expired key runs afresh.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http.request import RawPostDataException
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from infra.store import Store, schema

from .. import services
from .errors import ApiError

HEADER = "Idempotency-Key"
LEASE = timedelta(seconds=60)
EXPIRY = timedelta(hours=24)
PURGE_EVERY = 3600.0  # seconds between SQLite purges of expired keys, per process
TABLE = schema.IDEMPOTENCY.name


def _body(request: Request) -> bytes:
    try:
        return request._request.body or b""
    except RawPostDataException:  # the view parsed the stream first: hash what it parsed
        return json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str).encode()


def request_hash(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), _body(request)):
        digest.update(len(part).to_bytes(8, "big") + part)  # length-prefixed: no two splits collide
    return digest.hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _is_final(status_code: int) -> bool:
    return status_code < 500


def _in_progress(key: dict, digest: str, owner: str, now: datetime) -> dict:
    return {**key, "state": "in_progress", "status": None, "body": None, "request_hash": digest, "owner": owner,
            "created_at": now, "lease_until": now + LEASE, "expires_at": now + EXPIRY}


class _Claim:
    """This request's hold on one key: claimed, then finished (stored) or released."""

    def __init__(self, store: Store, key: dict, owner: str):
        self.store, self.key, self.owner = store, key, owner

    def finish(self, status_code: int, body: Any) -> None:
        if not _is_final(status_code):
            return self.release()
        values = {"state": "done", "status": status_code, "body": body, "lease_until": None}
        try:
            self.store.update_if(TABLE, self.key, values, {"owner": self.owner}, ttl_seconds=_ttl())
        except Exception:
            # The answer cannot be kept (the store is down): the request fails (503), and the key
            # is released once the store is back, so the retry runs again and finds the work done.
            _release_later(self.store, self.key, self.owner)
            raise

    def release(self) -> None:
        """Nothing final happened: the next request with this key runs again. A release the
        store refuses (it is down: likely why the request failed) is tried again later."""
        try:
            self.store.delete_if(TABLE, self.key, {"owner": self.owner})
        except Exception:  # the request's own error is what the caller sees
            _release_later(self.store, self.key, self.owner)


# Releases the store could not take when their request ended. Left alone, such a key stays
# leased for LEASE after the store is back, and every retry meets 409 request_in_progress
# meanwhile (tests/test_cluster_faults.py saw up to a minute of them after a Cassandra restart).
# A thread of this process tries them again every RELEASE_RETRY_SECONDS until each is done (a
# conditional delete by the holder: harmless if someone took the key over); a process that
# dies leaves its leases to expire, as before.
RELEASE_RETRY_SECONDS = 1.0
_unreleased: dict[tuple[str, str], tuple[Store, str]] = {}
_unreleased_lock = threading.Lock()
_releaser: list[threading.Thread | None] = [None]


def _release_later(store: Store, key: dict, owner: str) -> None:
    with _unreleased_lock:
        _unreleased[(key["scope"], key["key"])] = (store, owner)
        if _releaser[0] is None or not _releaser[0].is_alive():
            _releaser[0] = threading.Thread(target=_release_pending_loop, name="idempotency-releases", daemon=True)
            _releaser[0].start()


def pending_releases() -> int:
    with _unreleased_lock:
        return len(_unreleased)


def _release_pending() -> None:
    with _unreleased_lock:
        pending = list(_unreleased.items())
    for (scope, key), (store, owner) in pending:
        try:
            store.delete_if(TABLE, {"scope": scope, "key": key}, {"owner": owner})
        except Exception:
            continue  # still down: next round
        with _unreleased_lock:
            if _unreleased.get((scope, key), (None, None))[1] == owner:
                del _unreleased[(scope, key)]


def _release_pending_loop() -> None:
    while True:
        time.sleep(RELEASE_RETRY_SECONDS)
        _release_pending()
        with _unreleased_lock:
            if not _unreleased:  # under the lock: a release added now starts a new thread
                _releaser[0] = None
                return


def _expires_at(row: dict) -> datetime:
    """Rows written before expiry was recorded expire a day after they were created."""
    return row.get("expires_at") or (row.get("created_at") or datetime.min.replace(tzinfo=UTC)) + EXPIRY


def _lease_until(row: dict) -> datetime:
    if row.get("lease_until") is not None:
        return row["lease_until"]
    return (row.get("created_at") or datetime.min.replace(tzinfo=UTC)) + LEASE


def _ttl() -> int:
    return int(EXPIRY.total_seconds())


def _claim(store: Store, key: dict, digest: str) -> _Claim | Response:
    """The claim on the key, or the stored answer to replay. Raises 409/422."""
    owner = uuid.uuid4().hex
    for _ in range(3):  # a row deleted or taken over between our reads: look again
        now = _now()
        try:
            claimed = store.insert_if_absent(TABLE, _in_progress(key, digest, owner, now), ttl_seconds=_ttl())
        except Exception:  # no answer: the row may have been written (a conditional write timed out)
            _release_later(store, key, owner)
            raise
        if claimed:
            return _Claim(store, key, owner)
        first = store.get(TABLE, key)
        if first is None:
            continue
        expired = _expires_at(first) <= now
        if not expired:
            if first.get("request_hash") not in (None, digest):
                raise ApiError("idempotency_key_reused",
                               f"this {HEADER} was used with a different request; use a new key for a new request",
                               status.HTTP_422_UNPROCESSABLE_ENTITY)
            if first["state"] == "done":
                response = Response(first["body"], status=first["status"])
                response["Idempotent-Replayed"] = "true"
                return response
            if _lease_until(first) > now:
                raise ApiError("request_in_progress", f"a request with this {HEADER} is still running; retry shortly",
                               status.HTTP_409_CONFLICT)
        # an expired key, or a lease its holder let lapse (a dead process): take it over
        try:
            taken = store.update_if(TABLE, key, _in_progress({}, digest, owner, now), {"owner": first.get("owner")},
                                    ttl_seconds=_ttl())
        except Exception:  # no answer: the takeover may have been written
            _release_later(store, key, owner)
            raise
        if taken:
            return _Claim(store, key, owner)
    raise ApiError("request_in_progress", f"a request with this {HEADER} is still running; retry shortly",
                   status.HTTP_409_CONFLICT)


_last_purge = [0.0]
_purge_lock = threading.Lock()


def purge_expired(store: Store, now: datetime | None = None) -> int:
    """Delete keys past their expiry (SQLite; Cassandra's TTL does it there). Returns how many."""
    now = now or _now()
    removed, cursor = 0, None
    while True:
        rows, cursor = store.scan(TABLE, cursor=cursor)
        for row in rows:
            if _expires_at(row) <= now:
                key = {"scope": row["scope"], "key": row["key"]}
                if store.delete_if(TABLE, key, {"owner": row.get("owner")}):
                    removed += 1
        if cursor is None:
            return removed


def _purge_now_and_then(store: Store) -> None:
    if store.backend == "cassandra":
        return
    with _purge_lock:
        if time.monotonic() - _last_purge[0] < PURGE_EVERY:
            return
        _last_purge[0] = time.monotonic()
    purge_expired(store)


def idempotent(request: Request, scope: str, run: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return run()
    if len(key) > 200:
        raise ApiError("invalid_parameter", f"{HEADER}: at most 200 characters", parameter=HEADER)
    store = services.store()
    _purge_now_and_then(store)
    claim = _claim(store, {"scope": f"{scope}:{request.method}:{request.path}", "key": key}, request_hash(request))
    if isinstance(claim, Response):
        return claim
    try:
        response = run()
    except ApiError as exc:
        claim.finish(exc.status_code, {"code": exc.error_code, "message": str(exc.detail), **exc.extra})
        raise
    except BaseException:
        claim.release()  # no final answer (an outage, a timeout, a crash): the retry runs again
        raise
    claim.finish(response.status_code, response.data)
    return response
