"""Search latency and precision at 10 as the catalog grows: the shop's generated catalog
(2,689 products) and five times it (13,445), on the embedded SQLite index and, when it runs,
Elasticsearch. Only the index is loaded (the store is `tests/bench.py`'s), so the large
catalog adds tens of seconds, not minutes, to `make bench`."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from domains.catalog.importer import parse_catalog
from domains.catalog.projection import documents_from_catalog
from fixtures.generator import DEFAULT_COUNT, generate_catalog

from . import engines
from .bench_sizes import sized
from .search.relevance import precision_at_10

SIZES = (sized(DEFAULT_COUNT, 40), sized(5 * DEFAULT_COUNT, 80))
QUERIES = sized(240, 12)


def _indexes(tmp: str):
    from projections.search.sqlite_fts import SqliteProductIndex

    sqlite = SqliteProductIndex(Path(tmp) / f"scale-{uuid.uuid4().hex[:6]}.db")
    yield sqlite
    sqlite.close()
    if engines.elasticsearch_url():
        from projections.search.elastic import ElasticProductIndex

        index = ElasticProductIndex(engines.elasticsearch_url(), prefix=f"benchscale{uuid.uuid4().hex[:6]}")
        try:
            yield index
        finally:
            index.es.indices.delete(index=f"{index.alias}*", expand_wildcards="all", ignore_unavailable=True)
            index.close()


def main() -> list[dict]:
    from .bench import queries, summary, timed

    results = []
    for size in SIZES:
        catalog = parse_catalog(generate_catalog(product_count=size))
        docs = documents_from_catalog(catalog.products, catalog.variants_by_product(), catalog.collections)
        qs = queries(catalog, count=QUERIES)
        with tempfile.TemporaryDirectory() as tmp:
            for index in _indexes(tmp):
                started = time.perf_counter()
                generation = index.begin_rebuild()
                index.write_generation(generation, docs)
                index.finish_rebuild(generation)
                load_s = time.perf_counter() - started
                for q in qs[:20]:
                    index.search(q)  # warm caches and connections
                latency = summary([timed(lambda q=q, index=index: index.search(q)) for q in qs])
                quality = precision_at_10(index, docs) if size == SIZES[0] else None
                results.append({"backend": index.backend, "products": size, "load_index_s": round(load_s, 1),
                                "search": latency, "precision_at_10": quality and quality["mean"]})
        if not engines.elasticsearch_url():
            print(f"(Elasticsearch not running: {engines.HOW})")
    print(f"\n{'backend':14} {'products':>9} {'search median':>14} {'p95':>9} {'p@10':>6} {'load index':>11}")
    for r in results:
        p10 = f"{r['precision_at_10']:.3f}" if r["precision_at_10"] is not None else "-"
        print(f"{r['backend']:14} {r['products']:>9} {r['search']['median_ms']:>11.2f} ms "
              f"{r['search']['p95_ms']:>6.2f} ms {p10:>6} {r['load_index_s']:>9.1f} s")
    return results


if __name__ == "__main__":
    main()
