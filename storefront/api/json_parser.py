"""The JSON API's only parser: DRF's JSON parser with a nesting limit and one stable code.

Python's json decoder recurses once per level, so a body nested about a thousand levels deep
raises RecursionError (not ValueError) and surfaced as a 500. No request this API takes
nests more than a few levels, so the depth is checked on the raw text first, with a scan of
the brackets outside strings that cannot recurse, and anything deeper than MAX_DEPTH is the
400 `invalid_json`, as is every body that is not JSON at all.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 64
INVALID_JSON = "invalid_json"

# a JSON string (escapes included): its brackets are text, not nesting
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects in `text` nest (0 for a scalar). Brackets inside
    strings do not count; an unterminated string's brackets do, which can only overestimate
    a body that is not JSON anyway."""
    outside = _STRING.sub("", text)
    return max(accumulate(_STEP[b] for b in _BRACKET.findall(outside)), default=0)


class InvalidJson(ParseError):
    """400 `invalid_json` (errors.exception_handler answers `{code, message}` from default_code;
    this module cannot import errors.py: DRF imports the parser while errors.py is loading)."""

    default_code = INVALID_JSON


def invalid_json(message: str) -> InvalidJson:
    return InvalidJson(message, INVALID_JSON)


def loads(text: str, max_depth: int = MAX_DEPTH):
    """`json.loads`, refusing bodies nested deeper than `max_depth` before decoding them."""
    if nesting_depth(text) > max_depth:
        raise invalid_json(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=strict_constant)  # NaN/Infinity refused, as DRF does
    except RecursionError:  # belt and braces: the scan above should make this unreachable
        raise invalid_json(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise invalid_json(f"the body is not valid JSON: {exc}") from None


class DepthLimitedJSONParser(JSONParser):
    """`application/json` bodies for every API view (the REST_FRAMEWORK default parser)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise invalid_json(f"the body is not {encoding} text") from None
        return loads(text)
