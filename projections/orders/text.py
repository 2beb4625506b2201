"""The admin lists' text search, defined once for both adapters.

A query matches an order when any of these holds:

- its confirmation code starts with the query, ignoring case, dashes and spaces
  (`abcd-ef` finds `ABCDEFGH`);
- its email contains the query, ignoring case;
- every word of the query is the start of some word of the customer's name, ignoring
  case (`jo sm` finds "John Smith").

Words are runs of letters and digits, lowercased, split here rather than by an engine's
analyzer, so both backends (and the tests' reference) cut names identically.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta


def normalise_confirmation(code: str) -> str:
    """The same as domains.orders.ids.normalise_confirmation (tests/orders_index checks they agree):
    a projection imports no domain."""
    return code.strip().upper().replace("-", "").replace(" ", "")


_WORD = re.compile(r"[^\W_]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def words(value: str) -> list[str]:
    """The lowercased words of a name or query, in order, duplicates dropped."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(value)))


def code_key(value: str) -> str:
    """A confirmation code or code query as compared: uppercase, no dashes or spaces."""
    return "".join(normalise_confirmation(value).split())


def email_key(value: str) -> str:
    return value.strip().lower()


class TextQuery:
    """The three readings of one query string; an empty reading matches nothing."""

    def __init__(self, text: str):
        self.code = code_key(text)
        self.email = email_key(text)
        self.words = words(text)

    @classmethod
    def parse(cls, text: str | None) -> TextQuery | None:
        """None (no text filter) for a missing or blank query."""
        return cls(text) if text and text.strip() else None


def to_millis(value: datetime) -> int:
    """Milliseconds since the epoch (UTC; a naive datetime is taken as UTC), truncated.

    Filters and sorts work at millisecond precision on both backends (Elasticsearch's
    `date`); the stored document keeps whatever precision it was given.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MS


def from_millis(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)
