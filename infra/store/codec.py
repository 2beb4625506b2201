"""Value conversion shared by both adapters, so both return identical Python values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from infra.store.schema import Col


def to_utc_millis(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return to_utc_millis(value)
    if isinstance(value, str):
        return to_utc_millis(datetime.fromisoformat(value.replace("Z", "+00:00")))
    raise TypeError(f"not a timestamp: {value!r}")


def encode_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def decode_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def normalise(col: Col, value: Any) -> Any:
    """The canonical Python value a column holds (what reads return)."""
    if value is None:
        return [] if col is Col.TEXT_LIST else None
    if col is Col.TIMESTAMP:
        return parse_timestamp(value)
    if col is Col.BOOL:
        return bool(value)
    if col in (Col.INT, Col.COUNTER):
        return int(value)
    if col is Col.TEXT_LIST:
        return [str(v) for v in value]
    return value
