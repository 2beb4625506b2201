"""Return ids: the workflow id `return-{order_id}-{n}` and the id people see, `{code}-R{n}`."""

from __future__ import annotations

import re

WORKFLOW_PREFIX = "return-"
_DISPLAY = re.compile(r"^\s*([A-Za-z0-9]+)-R(\d+)\s*$")


def return_workflow_id(order_id: str, n: int) -> str:
    return f"{WORKFLOW_PREFIX}{order_id}-{n}"


def display_id(confirmation_code: str, n: int) -> str:
    return f"{confirmation_code}-R{n}"


def parse_return_id(display: str) -> tuple[str, int]:
    """`{code}-R{n}` -> (code, n); ValueError for anything else."""
    match = _DISPLAY.match(display)
    if match is None:
        raise ValueError(f"not a return id: {display!r}")
    return match.group(1).upper(), int(match.group(2))


def is_workflow_id(value: str) -> bool:
    return value.startswith(WORKFLOW_PREFIX)
