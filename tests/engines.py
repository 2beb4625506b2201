"""Where the real Cassandra, Elasticsearch and stripe-mock are, if anywhere.

Engine tests run when CASSANDRA_HOSTS / ELASTICSEARCH_URL / STRIPE_API_BASE are set or
`make services` has them listening on loopback. Otherwise they skip, unless COMMERCE_REQUIRE_ENGINES=1 (CI),
which turns every such skip into a failure.
"""

from __future__ import annotations

import os
import socket
from functools import cache

import pytest

REQUIRED = os.environ.get("COMMERCE_REQUIRE_ENGINES") == "1"
HOW = "run `make services` (or set CASSANDRA_HOSTS / ELASTICSEARCH_URL / STRIPE_API_BASE) to enable them"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def listening(address: str) -> bool:
    """Something accepts connections at `host:port` (the cluster's frontend, an engine)."""
    host, port = address.rsplit(":", 1)
    return _listening(host, int(port))


@cache
def cassandra_hosts() -> str | None:
    if os.environ.get("CASSANDRA_HOSTS"):
        return os.environ["CASSANDRA_HOSTS"]
    return "127.0.0.1" if _listening("127.0.0.1", 9042) else None


@cache
def elasticsearch_url() -> str | None:
    if os.environ.get("ELASTICSEARCH_URL"):
        return os.environ["ELASTICSEARCH_URL"]
    return "http://127.0.0.1:9200" if _listening("127.0.0.1", 9200) else None


@cache
def stripe_api_base() -> str | None:
    """stripe-mock (`make services`): where the Stripe adapter's tests send their calls."""
    if os.environ.get("STRIPE_API_BASE"):
        return os.environ["STRIPE_API_BASE"]
    return "http://127.0.0.1:12111" if _listening("127.0.0.1", 12111) else None


def need(engine: str, address: str | None) -> str:
    if address:
        return address
    message = f"{engine} is not running: {HOW}"
    if REQUIRED:
        pytest.fail(f"COMMERCE_REQUIRE_ENGINES=1 but {message}")
    pytest.skip(message)
