"""Text rules every backend applies identically: tokens, fuzziness, prefix matching.

Elasticsearch gets the same per-term fuzziness explicitly (rather than "AUTO"), and the
SQLite index expands each term against its vocabulary with the same edit distance
(optimal string alignment, as Lucene's fuzzy query counts a transposition as one edit),
so both return the same products for the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

# Weights of the searchable fields: the name weighs most.
TEXT_FIELDS: dict[str, float] = {
    "name": 4.0,
    "brand": 2.0,
    "collections": 2.0,
    "model": 1.5,
    "type": 1.5,
    "description": 1.0,
    "options": 1.0,  # the product's colour names and size labels
}
# Fields a word "acts on": a word naming a product type, brand, colour or size ranks the
# products that have it first.
ATTRIBUTE_FIELDS = ("type", "brand", "options")

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


# --- what a query's words mean --------------------------------------------------------

# Spellings shoppers use for the same garment (and colour): any one finds the others. The
# test build of Elasticsearch has no synonym filter, so queries are expanded here, for both
# backends. A spelling of several words is a phrase.
SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("tee", "tees", "tshirt", "tshirts", "t shirt", "t shirts"),
    ("hoodie", "hoodies", "hoody", "hooded"),
    ("sweatshirt", "sweatshirts", "crewneck", "crewnecks", "crew neck", "sweater", "sweaters", "jumper"),
    ("long sleeve", "long sleeves", "longsleeve", "longsleeves"),
    ("tank", "tanks", "tank top", "tank tops"),
    ("polo", "polos", "polo shirt", "polo shirts"),
    ("hat", "hats", "cap", "caps", "snapback"),
    ("tote", "totes", "tote bag", "tote bags"),
    ("mug", "mugs"),
    ("poster", "posters"),
    ("onesie", "onesies", "bodysuit", "bodysuits"),
    ("grey", "gray"),
)
_GROUP_OF = {spelling: group for group in SPELLINGS for spelling in group}
_LONGEST = max(len(s.split()) for s in _GROUP_OF)
SCARCE = 24  # typo matching applies only when fewer exact matches than this (a page of the shop)


@dataclass(frozen=True)
class Word:
    """One word of a query (or a phrase naming one garment) and how it may match."""

    typed: str
    spellings: tuple[str, ...]  # exact matches: words, or phrases of words
    prefix: str | None = None   # also matches as a prefix (the last word typed, 3+ letters)
    typo: str | None = None     # the word typo matching may expand, when exact matches are scarce


def _plural_forms(word: str) -> tuple[str, ...]:
    if not word.isalpha() or len(word) < 3:
        return (word,)
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return (word, word[:-1])
    return (word, word + "s")


def words(q: str) -> list[Word]:
    """The query's words, garment phrases ("t shirt", "tank top") taken as one word."""
    terms = tokens(q)
    out: list[Word] = []
    i = 0
    while i < len(terms):
        for n in range(min(_LONGEST, len(terms) - i), 0, -1):
            phrase = " ".join(terms[i:i + n])
            if phrase in _GROUP_OF:
                break
        else:
            n, phrase = 1, terms[i]
        last = i + n == len(terms)
        single = n == 1
        out.append(Word(
            typed=phrase,
            spellings=_GROUP_OF.get(phrase) or _plural_forms(phrase),
            prefix=phrase if last and single and len(phrase) >= PREFIX_MIN_LENGTH else None,
            typo=phrase if single and phrase.isalnum() and fuzziness(phrase) else None,
        ))
        i += n
    return out


def typo_spellings(word: str) -> tuple[str, ...]:
    """Spellings of the garments a mistyped word is close to ("tshrt" -> tee, t shirt ...),
    with the same edit rule as every typo and the first letter kept."""
    edits = fuzziness(word)
    found: list[str] = []
    for group in SPELLINGS:
        if any(" " not in s and s[0] == word[0] and OSA.distance(word, s) <= edits for s in group):
            found += [s for s in group if s not in found]
    return tuple(found)


def close_words(word: str, vocabulary: list[str]) -> list[str]:
    """Words of the index's vocabulary within the word's edits, first letter kept (a typo in
    the first letter is rare, and keeping it keeps "hoodie" from finding "noodle")."""
    edits = fuzziness(word)
    same_start = [w for w in vocabulary if w[:1] == word[:1]]
    return [c for c, _d, _i in process.extract(word, same_start, scorer=OSA.distance, score_cutoff=edits,
                                               limit=MAX_EXPANSIONS)]
