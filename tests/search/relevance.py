"""Precision at 10 of the shop's search over judged queries (`relevance.json`).

A query's relevant products are the catalog's products that satisfy all its rules (type,
colour word, brand, name word, collection, size). Precision at 10 counts relevant products
among the first ten hits, over the ten the catalog could fill (fewer when fewer exist), so a
query with three right answers scores 1.0 when those three come first.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

from projections.search import ProductDocument, ProductIndex, SearchQuery

JUDGED = Path(__file__).with_name("relevance.json")
_WORD = re.compile(r"[^\W_]+")


def judged_queries() -> list[dict]:
    return json.loads(JUDGED.read_text())["queries"]


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def relevant(doc: ProductDocument, rules: dict) -> bool:
    if "type" in rules and doc.type != rules["type"]:
        return False
    if "brand" in rules and doc.brand != rules["brand"]:
        return False
    if "name" in rules and rules["name"] not in _words(doc.name):
        return False
    if "collection" in rules and rules["collection"] not in doc.collection_names:
        return False
    if "color" in rules and not any(rules["color"] in _words(v.color) for v in doc.variants):
        return False
    return "size" not in rules or any(v.size == rules["size"] for v in doc.variants)


def precision_at_10(index: ProductIndex, docs: list[ProductDocument]) -> dict:
    """{"mean": p@10 over the judged queries, "queries": {q: p@10}}."""
    by_id = {d.id: d for d in docs}
    per_query = {}
    for rules in judged_queries():
        possible = sum(1 for d in docs if relevant(d, rules))
        hits = index.search(SearchQuery(q=rules["q"], page_size=10)).hits
        good = sum(1 for h in hits if relevant(by_id[h.id], rules))
        per_query[rules["q"]] = good / min(10, possible) if possible else 1.0
    return {"mean": round(statistics.mean(per_query.values()), 3), "queries": per_query}
