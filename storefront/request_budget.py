"""The time budget of the request being served: a deadline every wait on Temporal respects.

Set by `unavailable.TemporalUnavailableMiddleware` when a request starts, so a page that asks
Temporal several times (the admin dashboard) answers within one budget in total, not one
per call: once it is spent, later calls fail at once and their parts show as unavailable.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


@contextmanager
def budget(seconds: float):
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining(default: float) -> float:
    """Seconds left of the current request's budget (`default` outside a request)."""
    deadline = _deadline.get()
    return default if deadline is None else deadline - time.monotonic()


def active() -> bool:
    return _deadline.get() is not None
