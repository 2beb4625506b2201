"""Elasticsearch adapter of the product index.

Explicit settings and a strict mapping (no dynamic surprises), only core analysis (the
`standard` analyzer) so it runs on the stripped test distribution and on a full server
alike. Generations are concrete indices behind the `<prefix>-products` alias; a rebuild
fills a new index behind `<prefix>-products-building` and swaps both aliases in one
`_aliases` call. Facets are disjunctive: hits are narrowed by `post_filter`, and each
facet aggregation applies every active filter except its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.helpers import bulk

from . import text
from .documents import ProductDocument, VariantFacet
from .port import ProductIndex, SearchUnavailable
from .query import (
    PRICE_RANGES,
    Facets,
    FacetValue,
    Hit,
    Money,
    SearchQuery,
    SearchResult,
    Sort,
    by_count,
    pick_hex,
    price_facet,
    shown_variant,
    sizes_in_garment_order,
    with_variant,
)

_KEYWORD = {"type": "keyword"}
_TEXT = {"type": "text", "analyzer": "standard"}

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "name": _TEXT,
        "name_sort": _KEYWORD,
        "description": _TEXT,
        "brand": {**_KEYWORD, "fields": {"text": _TEXT}},
        "model": {**_KEYWORD, "fields": {"text": _TEXT}},
        "type": {**_KEYWORD, "fields": {"text": _TEXT}},
        "collection_ids": _KEYWORD,
        "collection_names": _TEXT,
        "price_amount": {"type": "long"},
        "currency": _KEYWORD,
        "created_at": {"type": "date"},
        "in_stock": {"type": "boolean"},
        "image_url": {"type": "keyword", "index": False, "doc_values": False},
        "options": _TEXT,
        "variants": {
            "type": "nested",
            "properties": {
                "id": _KEYWORD,
                "color": _KEYWORD,
                "color_hex": _KEYWORD,
                "size": _KEYWORD,
                "size_rank": {"type": "integer"},
                "available": {"type": "boolean"},
                "image_url": {"type": "keyword", "index": False, "doc_values": False},
            },
        },
    },
}

# Query field for each weighted text field of `text.TEXT_FIELDS`.
_FIELDS = {
    "name": "name",
    "brand": "brand.text",
    "collections": "collection_names",
    "model": "model.text",
    "type": "type.text",
    "description": "description",
    "options": "options",
}
_EXACT_FIRST = 1_000_000.0  # exact matches above typo matches (BM25 scores stay far below)
_ATTRIBUTE = 10_000.0  # per word naming the product's type, brand, colour or size
_FACET_SIZE = 500


def _source(doc: ProductDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "name": doc.name,
        "name_sort": doc.name.lower(),
        "description": doc.description,
        "brand": doc.brand,
        "model": doc.model,
        "type": doc.type,
        "collection_ids": doc.collection_ids,
        "collection_names": doc.collection_names,
        "price_amount": doc.price_amount,
        "currency": doc.currency,
        "created_at": doc.created_at.isoformat(),
        "in_stock": doc.in_stock,
        "image_url": doc.image_url,
        "options": doc.options_text,
        "variants": [v.model_dump() for v in doc.variants],
    }


class ElasticProductIndex(ProductIndex):
    backend = "elasticsearch"

    def __init__(self, url: str, prefix: str = "commerce", *, replicas: int = 0, shards: int = 1,
                 client: Elasticsearch | None = None):
        self.es = client or Elasticsearch(url, request_timeout=30, retry_on_timeout=True, max_retries=3)
        self.alias = f"{prefix}-products"
        self.building_alias = f"{prefix}-products-building"
        self._generation_name = re.compile(re.escape(self.alias) + r"-g(\d+)$")
        self._fields_added = False
        self.settings = {"number_of_shards": shards, "number_of_replicas": replicas, "refresh_interval": "1s"}

    # --- generations ----------------------------------------------------------------

    def _indices_of(self, alias: str) -> list[str]:
        try:
            return sorted(self.es.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def live_generation(self) -> str | None:
        found = self._indices_of(self.alias)
        return found[0] if found else None

    def _next_generation(self) -> str:
        existing = self.es.indices.get(index=f"{self.alias}-g*", expand_wildcards="all").body
        numbers = [int(m.group(1)) for name in existing if (m := self._generation_name.match(name))]
        return f"{self.alias}-g{max(numbers, default=0) + 1}"

    def _create(self, name: str) -> None:
        self.es.indices.create(index=name, settings=self.settings, mappings=MAPPING)

    def layout_current(self) -> bool:
        live = self.live_generation()
        if live is None:
            return True
        found = self.es.indices.get_mapping(index=live).body[live]["mappings"].get("properties", {})
        return "options" in found

    def _add_new_fields(self) -> None:
        """An index from an older version takes this version's new fields (ES adds fields to a
        mapping in place), so documents written now fit it until the next rebuild."""
        if not self._fields_added:
            for index in set(self._indices_of(self.alias)) | set(self._indices_of(self.building_alias)):
                self.es.indices.put_mapping(index=index, properties=MAPPING["properties"])
            self._fields_added = True

    def ensure(self) -> None:
        if self.live_generation() is None:
            name = self._next_generation()
            self._create(name)
            self.es.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias}}])

    def begin_rebuild(self) -> str:
        for abandoned in self._indices_of(self.building_alias):
            if abandoned not in self._indices_of(self.alias):
                self.es.indices.delete(index=abandoned)
        name = self._next_generation()
        # Bulk loading goes faster without refreshes; finish_rebuild restores them.
        self.es.indices.create(index=name, settings={**self.settings, "refresh_interval": "-1"}, mappings=MAPPING)
        self.es.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.building_alias}}])
        return name

    def finish_rebuild(self, generation: str) -> None:
        self.es.indices.put_settings(index=generation, settings={"refresh_interval": self.settings["refresh_interval"]})
        self.es.indices.refresh(index=generation)
        old = [i for i in self._indices_of(self.alias) if i != generation]
        actions: list[dict[str, Any]] = [{"add": {"index": generation, "alias": self.alias}}]
        actions += [{"remove": {"index": i, "alias": self.alias}} for i in old]
        actions.append({"remove": {"index": generation, "alias": self.building_alias}})
        self.es.indices.update_aliases(actions=actions)  # one atomic switch
        for index in old:
            self.es.indices.delete(index=index)

    # --- writes ---------------------------------------------------------------------

    def _bulk(self, indices: list[str], docs: list[ProductDocument], refresh: bool) -> int:
        actions = [
            {"_op_type": "index", "_index": index, "_id": d.id, "_source": _source(d)}
            for index in indices for d in docs
        ]
        if not actions:
            return 0
        ok, _errors = bulk(self.es, actions, chunk_size=500, refresh="wait_for" if refresh else False)
        return ok // max(len(indices), 1)

    def upsert(self, docs: Iterable[ProductDocument]) -> int:
        self.ensure()
        self._add_new_fields()
        docs = list(docs)
        live = self._indices_of(self.alias)
        building = [i for i in self._indices_of(self.building_alias) if i not in live]
        # A generation being built has refreshes off until its switch; waiting for one
        # there would block, and nobody reads it yet.
        self._bulk(building, docs, refresh=False)
        return self._bulk(live, docs, refresh=True)

    def write_generation(self, generation: str, docs: Iterable[ProductDocument]) -> int:
        return self._bulk([generation], list(docs), refresh=False)

    def delete(self, product_ids: Iterable[str]) -> None:
        targets = sorted(set(self._indices_of(self.alias)) | set(self._indices_of(self.building_alias)))
        actions = [{"_op_type": "delete", "_index": i, "_id": pid} for i in targets for pid in product_ids]
        if actions:
            bulk(self.es, actions, raise_on_error=False, refresh="wait_for")

    # --- reads ----------------------------------------------------------------------

    def count(self) -> int:
        try:
            return self.es.count(index=self.alias)["count"]
        except NotFoundError:
            raise SearchUnavailable("the product index has not been built yet (run load_catalog)") from None

    def ping(self) -> None:
        self.es.cluster.health(timeout="5s")

    @staticmethod
    def _word_query(word: text.Word, typos: bool) -> dict[str, Any]:
        fields = [f"{_FIELDS[f]}^{w}" for f, w in text.TEXT_FIELDS.items()]
        spellings = dict.fromkeys(word.spellings + (text.typo_spellings(word.typo) if typos and word.typo else ()))
        should: list[dict[str, Any]] = [
            {"multi_match": {"query": s, "fields": fields, "type": "phrase"}} for s in spellings
        ]
        if word.prefix:
            should += [{"prefix": {_FIELDS[f]: {"value": word.prefix, "boost": w}}}
                       for f, w in text.TEXT_FIELDS.items()]
        if typos and word.typo:
            should.append({"multi_match": {
                "query": word.typo, "fields": fields, "type": "best_fields",
                "fuzziness": text.fuzziness(word.typo), "max_expansions": text.MAX_EXPANSIONS,
                "prefix_length": 1, "fuzzy_transpositions": True,
            }})
        return {"bool": {"should": should, "minimum_should_match": 1}}

    @staticmethod
    def _attribute_query(word: text.Word, typos: bool) -> dict[str, Any]:
        fields = [_FIELDS[f] for f in text.ATTRIBUTE_FIELDS]
        spellings = dict.fromkeys(word.spellings + (text.typo_spellings(word.typo) if typos and word.typo else ()))
        return {"constant_score": {"boost": _ATTRIBUTE, "filter": {"bool": {"should": [
            {"multi_match": {"query": s, "fields": fields, "type": "phrase"}} for s in spellings
        ], "minimum_should_match": 1}}}}

    def _text_query(self, words: list[text.Word]) -> dict[str, Any]:
        exact = {"bool": {"must": [self._word_query(w, False) for w in words]}}
        typos = False
        if any(w.typo for w in words):
            typos = self.es.count(index=self.alias, query=exact)["count"] < text.SCARCE
        ranking = [self._attribute_query(w, typos) for w in words]
        if typos:
            ranking.append({"constant_score": {"boost": _EXACT_FIRST, "filter": exact}})
        return {"bool": {"must": [self._word_query(w, typos) for w in words], "should": ranking}}

    @staticmethod
    def _product_filters(query: SearchQuery, skip: str = "") -> list[dict[str, Any]]:
        f: list[dict[str, Any]] = []
        if query.collections and skip != "collections":
            f.append({"terms": {"collection_ids": query.collections}})
        if query.types and skip != "types":
            f.append({"terms": {"type": query.types}})
        if query.brands and skip != "brands":
            f.append({"terms": {"brand": query.brands}})
        if skip != "price_ranges" and (query.price_min is not None or query.price_max is not None):
            bounds = {}
            if query.price_min is not None:
                bounds["gte"] = query.price_min
            if query.price_max is not None:
                bounds["lte"] = query.price_max
            f.append({"range": {"price_amount": bounds}})
        return f

    @staticmethod
    def _variant_filters(query: SearchQuery, skip: str = "") -> list[dict[str, Any]]:
        f: list[dict[str, Any]] = []
        if query.colors and skip != "colors":
            f.append({"terms": {"variants.color": query.colors}})
        if query.sizes and skip != "sizes":
            f.append({"terms": {"variants.size": query.sizes}})
        if query.in_stock:
            f.append({"term": {"variants.available": True}})
        return f

    def _all_filters(self, query: SearchQuery, skip: str = "") -> list[dict[str, Any]]:
        f = self._product_filters(query, skip)
        variant = self._variant_filters(query)
        if variant:
            f.append({"nested": {"path": "variants", "query": {"bool": {"filter": variant}}}})
        return f

    def _variant_facet(self, query: SearchQuery, field: str, skip: str, sub: dict[str, Any]) -> dict[str, Any]:
        return {
            "filter": {"bool": {"filter": self._product_filters(query)}},
            "aggs": {"nested": {
                "nested": {"path": "variants"},
                "aggs": {"matching": {
                    "filter": {"bool": {"filter": self._variant_filters(query, skip)}},
                    "aggs": {"values": {
                        "terms": {"field": field, "size": _FACET_SIZE},
                        "aggs": {"products": {"reverse_nested": {}}, **sub},
                    }},
                }},
            }},
        }

    def search(self, query: SearchQuery) -> SearchResult:
        words = text.words(query.q)
        try:
            base = self._text_query(words) if words else {"match_all": {}}
        except NotFoundError:
            raise SearchUnavailable("the product index has not been built yet (run load_catalog)") from None
        sort = {
            Sort.RELEVANCE: [{"_score": "desc"}, {"id": "asc"}] if words else [{"created_at": "desc"}, {"id": "asc"}],
            Sort.PRICE_ASC: [{"price_amount": "asc"}, {"id": "asc"}],
            Sort.PRICE_DESC: [{"price_amount": "desc"}, {"id": "asc"}],
            Sort.NEWEST: [{"created_at": "desc"}, {"id": "asc"}],
            Sort.NAME: [{"name_sort": "asc"}, {"id": "asc"}],
        }[query.sort]

        def facet(skip: str, agg: dict[str, Any]) -> dict[str, Any]:
            return {"filter": {"bool": {"filter": self._all_filters(query, skip)}}, "aggs": {"values": agg}}

        ranges = [{"key": r.key, "from": r.min, **({"to": r.max} if r.max is not None else {})} for r in PRICE_RANGES]
        aggs = {
            "collections": facet("collections", {"terms": {"field": "collection_ids", "size": _FACET_SIZE}}),
            "types": facet("types", {"terms": {"field": "type", "size": _FACET_SIZE}}),
            "brands": facet("brands", {"terms": {"field": "brand", "size": _FACET_SIZE}}),
            "price_ranges": facet("price_ranges", {"range": {"field": "price_amount", "ranges": ranges}}),
            "colors": self._variant_facet(query, "variants.color", "colors", {
                "shades": {"terms": {"field": "variants.color_hex", "size": 50},
                           "aggs": {"products": {"reverse_nested": {}}}}}),
            "sizes": self._variant_facet(query, "variants.size", "sizes", {
                "rank": {"min": {"field": "variants.size_rank"}}}),
        }
        try:
            resp = self.es.search(
                index=self.alias, query=base, post_filter={"bool": {"filter": self._all_filters(query)}},
                aggs=aggs, sort=sort, from_=query.offset, size=query.page_size, track_total_hits=True,
                source_excludes=["description", "options"],
            )
        except NotFoundError:
            raise SearchUnavailable("the product index has not been built yet (run load_catalog)") from None
        hits = []
        for h in resp["hits"]["hits"]:
            s = h["_source"]
            hits.append(Hit(
                id=s["id"], name=s["name"], brand=s["brand"], type=s["type"],
                price=Money(amount=s["price_amount"], currency=s["currency"]),
                collections=[{"id": i, "name": n} for i, n in zip(s["collection_ids"], s["collection_names"],
                                                                  strict=False)],
                image_url=s["image_url"], in_stock=s["in_stock"],
            ))
            if query.colors or query.sizes or words:
                variants = [VariantFacet.model_validate(v) for v in s["variants"]]
                hits[-1] = with_variant(hits[-1], shown_variant(variants, query, text.tokens(query.q)), query)
        a = resp["aggregations"]

        def term_facet(name: str) -> list[FacetValue]:
            return by_count([FacetValue(value=b["key"], count=b["doc_count"]) for b in a[name]["values"]["buckets"]])

        colors = a["colors"]["nested"]["matching"]["values"]["buckets"]
        sizes = a["sizes"]["nested"]["matching"]["values"]["buckets"]
        facets = Facets(
            collections=term_facet("collections"),
            types=term_facet("types"),
            brands=term_facet("brands"),
            price_ranges=price_facet({b["key"]: b["doc_count"] for b in a["price_ranges"]["values"]["buckets"]}),
            colors=by_count([
                FacetValue(value=b["key"], count=b["products"]["doc_count"],
                           hex=pick_hex({s["key"]: s["products"]["doc_count"] for s in b["shades"]["buckets"]}))
                for b in colors
            ]),
            sizes=sizes_in_garment_order([(b["key"], int(b["rank"]["value"]),
                                           b["products"]["doc_count"]) for b in sizes]),
        )
        return SearchResult(total=resp["hits"]["total"]["value"], page=query.page, page_size=query.page_size,
                            hits=hits, facets=facets)

    def close(self) -> None:
        self.es.close()
