"""`make bench`: search latency and catalog load time on every available backend; search
latency at five times the catalog and precision at 10 (`bench_search_scale.py`); then the
cart, inventory flash-sale (`bench_inventory.py`: holds/s at 1, 2, 4, 8 shards), order,
admin, cadence and webhook benches, and the shop on the Temporal cluster against the dev
server (`bench_cluster.py`, skipped when no cluster answers).

Each figure is a median (and p95) over repeated runs in this process; ratios compare
against a baseline measured in the same run on the same machine (the embedded SQLite
backend, and each engine's cheapest call), so the numbers travel between machines.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from domains.catalog.importer import parse_catalog
from domains.catalog.loader import index_catalog, write_catalog
from domains.catalog.models import Catalog
from fixtures.generator import DEFAULT_COUNT, generate_catalog
from projections.search import SearchQuery
from projections.search.query import PRICE_RANGES, Sort

from . import engines
from .bench_sizes import output_dir, sized

QUERY_COUNT = sized(240, 12)
ROUNDS = sized(3, 1)
FLOOR_SAMPLES = sized(200, 5)
CATALOG_PRODUCTS = sized(DEFAULT_COUNT, 40)  # the shop's generated catalog; a small one for the smoke test


def queries(catalog: Catalog, count: int = QUERY_COUNT, seed: int = 42) -> list[SearchQuery]:
    """A fixed mix of text, filters and both; facets are computed for every one."""
    rng = random.Random(seed)
    words = sorted({w.lower() for p in catalog.products for w in p.name.split() if w.isalpha() and len(w) > 3})
    typos = [w[0] + w[2] + w[1] + w[3:] for w in words if len(w) > 5]
    colors = sorted({v.color for v in catalog.variants})
    sizes = ["S", "M", "L", "XL", "2XL"]
    brands = sorted({p.brand for p in catalog.products})
    types = sorted({p.type for p in catalog.products})
    collections = sorted({c.id for c in catalog.collections})
    out = []
    for i in range(count):
        kind = i % 6
        params: dict = {}
        if kind in (0, 1, 2):
            params["q"] = " ".join(rng.sample(words, rng.choice([1, 1, 2])))
        if kind == 1:
            params["q"] = rng.choice(typos)
        if kind in (2, 3, 4):
            params["colors"] = [rng.choice(colors)]
            if rng.random() < 0.6:
                params["sizes"] = [rng.choice(sizes)]
        if kind in (3, 5):
            params["collections"] = rng.sample(collections, rng.choice([1, 2]))
        if kind == 4:
            params["brands"] = [rng.choice(brands)]
            params["in_stock"] = True
        if kind == 5:
            r = rng.choice(PRICE_RANGES)
            params.update(price_min=r.min, price_max=(r.max - 1) if r.max else None, types=[rng.choice(types)])
        params["sort"] = rng.choice(list(Sort))
        params["page"] = rng.choice([1, 1, 1, 2])
        out.append(SearchQuery(**params))
    return out


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2), "n": len(ordered)}


def bench_backend(name: str, store, index, catalog: Catalog, qs: list[SearchQuery]) -> dict:
    store.create_schema()
    load_store = timed(lambda: write_catalog(catalog, store, batch=200))
    load_index = timed(lambda: index_catalog(catalog, index))
    for q in qs[:20]:
        index.search(q)  # warm caches and connections
    per_query = []
    for _ in range(ROUNDS):
        per_query += [timed(lambda q=q: index.search(q)) for q in qs]
    floor = [timed(index.count) for _ in range(FLOOR_SAMPLES)]
    return {
        "backend": name,
        "load_catalog_s": {"store": round(load_store / 1000, 2), "index": round(load_index / 1000, 2),
                           "total": round((load_store + load_index) / 1000, 2)},
        "search": summary(per_query),
        "floor_count": summary(floor),
    }


def main() -> None:
    # the cart, admin and cadences benches start Django in this process (a fresh clone sets nothing)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    # The benches run throwaway servers whose workers use the tests' codec keys (tests/servers.py):
    # every process the bench starts, and Django's client, must encrypt with the same ones.
    from .servers import TEST_CODEC_KEYS

    os.environ["COMMERCE_CODEC_KEYS"] = TEST_CODEC_KEYS
    # The web's modules (DRF, and `requests`, which aliases urllib3's modules as it imports) before
    # any bench runs workflows in this process: Temporal's sandbox imports modules afresh for each
    # new workflow run, and an import of them on this thread meanwhile saw a half-made urllib3
    # (`requests.packages.urllib3` without `_collections`: 1 smoke run in 3 failed in bench_admin).
    import django

    django.setup()
    import storefront.urls  # noqa: F401
    started = time.perf_counter()
    catalog = parse_catalog(generate_catalog(product_count=CATALOG_PRODUCTS))
    generate_s = time.perf_counter() - started
    qs = queries(catalog)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        from infra.store.sqlite import SqliteStore
        from projections.search.sqlite_fts import SqliteProductIndex

        results.append(bench_backend("sqlite", SqliteStore(Path(tmp) / "s.db"),
                                     SqliteProductIndex(Path(tmp) / "i.db"), catalog, qs))
        if engines.cassandra_hosts() and engines.elasticsearch_url():
            from infra.store.cassandra import CassandraStore
            from projections.search.elastic import ElasticProductIndex

            store = CassandraStore(engines.cassandra_hosts().split(","), keyspace="bench")
            index = ElasticProductIndex(engines.elasticsearch_url(), prefix="bench")
            try:
                results.append(bench_backend("cassandra+elasticsearch", store, index, catalog, qs))
            finally:
                store._session.execute("DROP KEYSPACE IF EXISTS bench")
                index.es.indices.delete(index="bench-products*", expand_wildcards="all", ignore_unavailable=True)
        else:
            print(f"(Cassandra/Elasticsearch not running: {engines.HOW})")
    base = results[0]["search"]["median_ms"]
    print(f"\ncatalog: {len(catalog.products)} products, {len(catalog.variants)} variants "
          f"(generated and validated in {generate_s:.1f}s); {len(qs)} queries x {ROUNDS} rounds\n")
    print(f"{'backend':26} {'search median':>14} {'p95':>9} {'vs sqlite':>10} {'floor (count)':>14} "
          f"{'load store':>11} {'load index':>11}")
    for r in results:
        s = r["search"]
        print(f"{r['backend']:26} {s['median_ms']:>11.2f} ms {s['p95_ms']:>6.2f} ms {s['median_ms'] / base:>9.2f}x "
              f"{r['floor_count']['median_ms']:>11.2f} ms {r['load_catalog_s']['store']:>9.1f} s "
              f"{r['load_catalog_s']['index']:>9.1f} s")
    out = output_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / "search.json").write_text(json.dumps(results, indent=2))

    from .bench_search_scale import main as search_scale_bench

    (out / "search_scale.json").write_text(json.dumps(search_scale_bench(), indent=2))

    from .bench_cart import main as cart_bench

    (out / "cart.json").write_text(json.dumps(cart_bench(), indent=2))

    from .bench_inventory import main as inventory_bench

    (out / "inventory.json").write_text(json.dumps(inventory_bench(), indent=2))

    from .bench_orders import main as orders_bench

    (out / "orders.json").write_text(json.dumps(orders_bench(), indent=2))

    from .bench_admin import main as admin_bench

    (out / "admin.json").write_text(json.dumps(admin_bench(), indent=2))

    from .bench_cadences import main as cadences_bench

    (out / "cadences.json").write_text(json.dumps(cadences_bench(), indent=2))

    from .bench_webhooks import main as webhooks_bench

    (out / "webhooks.json").write_text(json.dumps(webhooks_bench(), indent=2))

    # the shop on the real cluster (`make cluster`) against the dev server; a `skipped` line without it
    from .bench_cluster import main as cluster_bench

    (out / "cluster.json").write_text(json.dumps(cluster_bench(), indent=2))


if __name__ == "__main__":
    main()
