"""The reference itself, against hand-worked examples of the documented text rules, so a
wrong reference cannot pass the contract by agreeing with a wrong backend."""

from __future__ import annotations

import pytest

from .reference import edits_allowed, osa_distance, query_words, word_matches


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("hoodie", "hoodie", 0), ("hodie", "hoodie", 1), ("sweatshrit", "sweatshirt", 1),  # a swap is one edit
    ("hoody", "hoodie", 2), ("ca", "abc", 3),  # OSA, not Damerau: no edit of a swapped pair
    ("", "tee", 3), ("kitten", "sitting", 3),
])
def test_edit_distance(a, b, distance):
    assert osa_distance(a, b) == distance


def test_edits_allowed_follow_lucene_auto():
    assert [edits_allowed(w) for w in ("xs", "tee", "shirt", "hoodie", "sweatshirt")] == [0, 1, 1, 2, 2]


def test_query_words():
    assert query_words("Women's  V-Neck 4.2oz tee_shirt") == ["women's", "v", "neck", "4.2oz", "tee", "shirt"]
    assert len(query_words(" ".join(f"w{i}" for i in range(12)))) == 8


@pytest.mark.parametrize(("term", "word", "last", "ok"), [
    ("hodie", "hoodie", False, True),
    ("hoody", "hoodie", False, False),   # two edits for a five-letter word: too many (docs' known limit)
    ("hoody", "hoodie", True, False),    # and not a prefix either
    ("te", "tea", False, False),         # two letters: exact only
    ("te", "te", False, True),
    ("vintag", "vintage", False, True),  # one edit anyway
    ("vin", "vintage", True, True),      # the last word is a prefix
    ("vin", "vintage", False, False),    # an earlier word is not
    ("vi", "vintage", True, False),      # a prefix needs three letters
    ("hoodie", "noodle", False, False),  # a typo keeps the first letter
    ("hoodie", "doodle", False, False),
])
def test_word_matching(term, word, last, ok):
    assert word_matches(term, word, last=last) is ok
