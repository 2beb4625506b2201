"""Rate limits every web process shares: window counters in the write store.

A limit of N per duration counts hits per (limit, client) in windows of that duration
(aligned to the epoch) with the store's atomic increment, so two gunicorn workers or two
hosts see one count. A hit is allowed while the sliding estimate holds: this window's count
plus the previous window's weighted by how much of it still lies within one duration of
now. That keeps a burst straddling a window edge from passing twice the limit (a plain
fixed window would), at the cost of one more read per request. A refusal says how long
until the current window ends (Retry-After).

Old windows: the first hit of a window deletes the client's window before the previous
one, so each client keeps at most two rows per limit.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from infra.store import Store
from infra.store.schema import RATE_WINDOWS

from . import services

TABLE = RATE_WINDOWS.name
log = logging.getLogger(__name__)
RETRY_AFTER_ATTR = "_rate_limit_retry_after"  # set on a refused request; the middleware answers with it


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int  # whole seconds until the window ends (at least 1)


def hit(scope: str, client: str, limit: int, duration: int, *, store: Store | None = None,
        now: float | None = None) -> Decision:
    """Count one hit of `client` against `limit` per `duration` seconds."""
    now = time.time() if now is None else now
    window = int(now // duration) * duration  # the window's start, epoch seconds
    retry_after = max(1, math.ceil(window + duration - now))
    bucket = f"{scope}:{client}"
    try:
        store = store or services.store()
        count = store.increment(TABLE, {"bucket": bucket, "window": window}, "hits")
        previous = store.get(TABLE, {"bucket": bucket, "window": window - duration})
        if count == 1:
            store.delete(TABLE, {"bucket": bucket, "window": window - 2 * duration})
    except Exception as exc:  # a store outage must not turn every limited page into a 500
        # Fail open: what the limits guard (sign-in, order lookups) needs the store itself and
        # fails on its own; search, which does not, keeps answering.
        log.warning("rate limit %s not counted (store unavailable): %s", scope, exc)
        return Decision(allowed=True, count=0, retry_after=retry_after)
    overlap = 1 - (now - window) / duration  # the share of the previous window still within reach
    estimate = count + (previous["hits"] if previous else 0) * overlap
    return Decision(allowed=estimate <= limit, count=count, retry_after=retry_after)


def refuse(request, decision: Decision) -> None:
    """Remember on the request how long the client should wait (for the Retry-After header)."""
    setattr(request, RETRY_AFTER_ATTR, decision.retry_after)
    inner = getattr(request, "_request", None)  # a DRF Request wraps Django's
    if inner is not None:
        setattr(inner, RETRY_AFTER_ATTR, decision.retry_after)


class RetryAfterMiddleware:
    """Every 429 says when to come back, whichever view refused (pages render their own 429)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        wait = getattr(request, RETRY_AFTER_ATTR, None)
        if response.status_code == 429 and wait is not None and not response.has_header("Retry-After"):
            response["Retry-After"] = str(wait)
        return response
