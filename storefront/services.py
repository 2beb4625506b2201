"""Process-wide handles the views share: config, store, index, Temporal bridge.

Opened lazily, after gunicorn forks its workers, so no connection crosses a fork.
"""

from __future__ import annotations

import threading
import time
from functools import cache

from django.conf import settings

from domains.catalog.reads import list_collections
from infra.store import Store, open_store
from projections.orders import OrderIndex, open_order_index
from projections.search import ProductIndex, open_index

from .temporal_bridge import TemporalBridge


@cache
def store() -> Store:
    return open_store(settings.COMMERCE)


@cache
def index() -> ProductIndex:
    return open_index(settings.COMMERCE)


@cache
def order_index() -> OrderIndex:
    """The admin lists' order read model (opened once per process, like the product index)."""
    return open_order_index(settings.COMMERCE)


@cache
def temporal() -> TemporalBridge:
    return TemporalBridge(settings.COMMERCE)


def call(fn, *args):
    """`await fn(client, *args)` for a domain client function, on this process's Temporal loop."""
    return temporal().run(lambda client: fn(client, *args))


_names_lock = threading.Lock()
_names: tuple[float, dict[str, str]] = (0.0, {})
COLLECTION_NAMES_TTL = 60.0


def collection_names() -> dict[str, str]:
    """Collection id -> name, re-read from the store at most once a minute."""
    global _names
    loaded_at, names = _names
    if time.monotonic() - loaded_at > COLLECTION_NAMES_TTL or not names:
        with _names_lock:
            names = {c.id: c.name for c in list_collections(store())}
            _names = (time.monotonic(), names)
    return names


def reset() -> None:
    """Forget every handle (tests switch backends and data folders)."""
    global _names
    for fn in (store, index, order_index, temporal):
        fn.cache_clear()
    _names = (0.0, {})
