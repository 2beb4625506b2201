"""What the Cassandra adapter promises beyond the shared contract."""

from __future__ import annotations

import uuid

import pytest

from infra.store.cassandra import replication_clause

from .. import engines


@pytest.mark.parametrize("spec, clause", [
    ("SimpleStrategy:1", "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
    ("SimpleStrategy:3", "{'class': 'SimpleStrategy', 'replication_factor': 3}"),
    ("NetworkTopologyStrategy:dc1=3,dc2=2", "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}"),
])
def test_replication_strategy_comes_from_configuration(spec, clause):
    assert replication_clause(spec) == clause


@pytest.mark.parametrize("spec", ["Everywhere:3", "NetworkTopologyStrategy:", "SimpleStrategy:x"])
def test_a_bad_replication_setting_is_refused(spec):
    with pytest.raises(ValueError):
        replication_clause(spec)


@pytest.fixture
def cassandra():
    from infra.store.cassandra import CassandraStore

    hosts = engines.need("cassandra", engines.cassandra_hosts())
    store = CassandraStore(hosts.split(","), keyspace=f"spec_{uuid.uuid4().hex[:10]}")
    store.create_schema()
    yield store
    store._session.execute(f"DROP KEYSPACE IF EXISTS {store.keyspace}")
    store.close()


def test_keyspace_replication_and_clustering_order_are_as_declared(cassandra):
    meta = cassandra._cluster.metadata.keyspaces[cassandra.keyspace]
    assert meta.replication_strategy.replication_factor == 1
    table = meta.tables["orders_by_customer"]
    assert [c.name for c in table.partition_key] == ["customer_id"]
    assert [c.name for c in table.clustering_key] == ["placed_at", "order_id"]
    assert "placed_at DESC" in table.export_as_string()


def test_reads_and_writes_use_prepared_statements_and_token_aware_routing(cassandra):
    from cassandra.policies import TokenAwarePolicy

    cassandra.put("products", {"id": "p1", "name": "x"})
    cassandra.get("products", {"id": "p1"})
    cassandra.query("variants_by_product", {"product_id": "p1"})
    assert len(cassandra._prepared) >= 3
    policy = cassandra._cluster.profile_manager.default.load_balancing_policy
    assert isinstance(policy, TokenAwarePolicy)


def test_no_query_filters_on_a_non_key_column():
    """Every CQL the adapter can build names a whole key: no ALLOW FILTERING anywhere."""
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "infra" / "store" / "cassandra.py").read_text()
    assert "ALLOW FILTERING" not in source.upper()
