"""Product search: one port, an SQLite FTS5 adapter (embedded default) and an Elasticsearch adapter."""

from __future__ import annotations

from infra.config import Config

from .documents import ProductDocument
from .port import ProductIndex, SearchUnavailable
from .query import SearchQuery, SearchResult

__all__ = ["ProductDocument", "ProductIndex", "SearchQuery", "SearchResult", "SearchUnavailable", "open_index"]


def open_index(config: Config) -> ProductIndex:
    """The product index named by COMMERCE_SEARCH."""
    if config.search_backend == "elasticsearch":
        from .elastic import ElasticProductIndex

        return ElasticProductIndex(config.elasticsearch_url, config.search_index_prefix)
    from .sqlite_fts import SqliteProductIndex

    return SqliteProductIndex(config.sqlite_search_path)
