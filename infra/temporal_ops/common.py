"""Shared pieces of the Temporal operations reads: status names, time helpers, filter errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import (
    WorkflowExecutionStatus,
)

# Visibility's names for an execution status (what `ExecutionStatus='...'` accepts).
STATUSES = ("Running", "Completed", "Failed", "Canceled", "Terminated", "ContinuedAsNew", "TimedOut")
WINDOW = timedelta(hours=1)  # "recently closed" on the overview
# A live worker re-polls at least every minute (long polls end after about 60 s); the server
# keeps listing a worker that stopped for a few minutes more, so older pollers are stale.
STALE_AFTER = timedelta(minutes=2)
MAX_EVENTS = 5000  # history read for one page; longer histories are cut (the Temporal UI has the rest)
PAYLOAD_CHARS = 240  # decoded payloads are shortened to this

# Filter values are spliced into a visibility query, so only plain identifier characters
# are accepted: no quote can end the literal early.
_SAFE = re.compile(r"^[A-Za-z0-9_.:@/\-]{1,200}$")


class BadFilter(ValueError):
    """A filter value the visibility query cannot take (shown to the user as a 400)."""


def _quoted(name: str, value: str) -> str:
    if not _SAFE.match(value):
        raise BadFilter(f"{name} may only contain letters, digits and _ . : @ / - (got {value!r})")
    return f"'{value}'"


def _time(ts: Timestamp | None) -> datetime | None:
    """A protobuf Timestamp as an aware datetime; None when unset."""
    if ts is None or (ts.seconds <= 0 and ts.nanos == 0):
        return None
    return ts.ToDatetime(tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_name(status: int) -> str:
    """WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW -> ContinuedAsNew (visibility's spelling)."""
    name = WorkflowExecutionStatus.Name(WorkflowExecutionStatus.ValueType(status))
    raw = name.removeprefix("WORKFLOW_EXECUTION_STATUS_")
    return "".join(part.capitalize() for part in raw.split("_"))


def age_text(delta: timedelta) -> str:
    """A short age: "12 s", "4 min", "3 h", "2 d"."""
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * (2 if unit == "min" else 1):
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


