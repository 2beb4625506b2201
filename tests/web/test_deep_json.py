"""Bodies nested deeper than the API takes are the 400 `invalid_json`, never a 500.

Python's json decoder recurses per level: a body nested a thousand levels deep raised
RecursionError inside DRF's parser. The parser now measures the nesting on the raw text first
(tests/security/test_api_fuzz.py sends such bodies to every JSON operation through the app).
"""

from __future__ import annotations

import io

import pytest

from storefront.api.json_parser import MAX_DEPTH, DepthLimitedJSONParser, InvalidJson, nesting_depth


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def parse(text: str):
    return DepthLimitedJSONParser().parse(io.BytesIO(text.encode()), "application/json", {})


def refusal(text: str) -> InvalidJson:
    with pytest.raises(InvalidJson) as refused:
        parse(text)
    assert refused.value.status_code == 400
    return refused.value


@pytest.mark.parametrize("text, depth", [
    ("1", 0), ('"[[[{{{"', 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4),
    ('{"a\\"[[[": "]]]"}', 1), ('["\\\\", [2]]', 2), (nested(1000), 1000),
])
def test_depth_counts_brackets_outside_strings(text, depth):
    assert nesting_depth(text) == depth


def test_the_deepest_allowed_body_parses_and_one_more_level_is_invalid_json():
    value = parse(nested(MAX_DEPTH))
    for _ in range(MAX_DEPTH):
        value = value[0]
    assert value == 1
    assert refusal(nested(MAX_DEPTH + 1)).default_code == "invalid_json"


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_bodies_that_would_exhaust_the_decoder_are_invalid_json(depth):
    for text in (nested(depth), "{" + '"a":{' * depth + "}" * (depth + 1)):
        assert refusal(text).default_code == "invalid_json"


def test_brackets_inside_strings_do_not_count():
    body = {"note": "[" * 1000}
    assert parse('{"note": "' + "[" * 1000 + '"}') == body


@pytest.mark.parametrize("text", ["{", "[1,]", "NaN", '{"a": Infinity}', "{'a': 1}"])
def test_bodies_that_are_not_json_are_invalid_json_too(text):
    assert refusal(text).default_code == "invalid_json"


def test_a_deep_body_to_an_api_view_is_a_400_with_its_code(client):
    """Through Django: the view that reads the body answers 400 invalid_json (it was a 500)."""
    response = client.post("/api/orders/lookup", nested(1000), content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "invalid_json"
