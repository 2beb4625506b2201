"""Text rules every backend applies identically: tokens, fuzziness, prefix matching.

Elasticsearch gets the same per-term fuzziness explicitly (rather than "AUTO"), and the
SQLite index expands each term against its vocabulary with the same edit distance
(optimal string alignment, as Lucene's fuzzy query counts a transposition as one edit),
so both return the same products for the same words.
"""

from __future__ import annotations

import re

# Weights of the searchable fields: the name weighs most.
TEXT_FIELDS: dict[str, float] = {
    "name": 4.0,
    "brand": 2.0,
    "collections": 2.0,
    "model": 1.5,
    "type": 1.5,
    "description": 1.0,
}

MAX_TERMS = 8
MAX_EXPANSIONS = 50
PREFIX_MIN_LENGTH = 3

# Words, keeping an apostrophe or a dot between letters/digits inside the word ("women's",
# "4.2"), as the Unicode word-boundary rules of Elasticsearch's standard tokenizer do.
_TOKEN = re.compile(r"[^\W_]+(?:['.][^\W_]+)*", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of a query, at most MAX_TERMS of them."""
    return [t.lower() for t in _TOKEN.findall(text)][:MAX_TERMS]


def fuzziness(term: str) -> int:
    """Edits allowed for a term: none below 3 characters, 1 up to 5, 2 beyond (Lucene's AUTO)."""
    if len(term) < 3:
        return 0
    return 1 if len(term) < 6 else 2


def is_prefix_term(index: int, terms: list[str]) -> bool:
    """The last word of a query also matches as a prefix (search as you type)."""
    return index == len(terms) - 1 and len(terms[index]) >= PREFIX_MIN_LENGTH
