"""A cadence's steps, their validation, durations, and where a running enrollment stands
when the steps change under it.

Every step has an id that stays the same across versions of the cadence (new steps get a
new one). That is what lets an enrollment continue "from its current position" after an
edit: it finds the step it was on (or the next one that survived) in the new list, and a
step whose id it has already done is never done again.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from enum import StrEnum

from pydantic import BaseModel, Field

from .errors import CadenceErrorCode

MAX_STEPS = 50
MAX_WAIT_SECONDS = 366 * 24 * 3600
MAX_SUBJECT = 200

# Short names for CadenceErrorCode members (errors.py holds the codes and their wire values).
INVALID_STEPS = CadenceErrorCode.INVALID_STEPS
UNKNOWN_TEMPLATE = CadenceErrorCode.UNKNOWN_TEMPLATE
TEMPLATE_NOT_ALLOWED = CadenceErrorCode.TEMPLATE_NOT_ALLOWED

# A subject is a template string staff type in: it may print values and use if/for, nothing
# that reaches other templates or files (include, extends, load, ssi...). Tags are read the way
# Django's lexer reads them (the same pattern), so what is checked here is what would be parsed.
SUBJECT_TAGS = frozenset({"if", "elif", "else", "endif", "for", "empty", "endfor"})
_TEMPLATE_TOKEN = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})")


class StepType(StrEnum):
    SEND_EMAIL = "SEND_EMAIL"
    WAIT = "WAIT"


class Step(BaseModel):
    id: str = Field("", max_length=20)  # empty on a new step: the cadence workflow assigns one
    type: StepType
    template: str | None = Field(None, max_length=100)  # SEND_EMAIL
    subject: str | None = Field(None, max_length=MAX_SUBJECT)  # SEND_EMAIL; a template string too
    seconds: int | None = None  # WAIT

    def describe(self) -> str:
        if self.type == StepType.WAIT:
            return f"wait {format_duration(self.seconds or 0)}"
        return f"send {self.template}: {self.subject}"


class StepsInvalid(ValueError):
    """Steps that can't be saved; `code` is the stable error code."""

    def __init__(self, code: CadenceErrorCode, message: str):
        super().__init__(message)
        self.code = code


def check_steps(steps: Sequence[Step], templates: Collection[str] | None = None) -> None:
    """Raise StepsInvalid unless the steps can run. Templates are checked when given (the
    web process knows them; the workflow re-checks only the shape)."""
    if not steps:
        raise StepsInvalid(INVALID_STEPS, "a cadence needs at least one step")
    if len(steps) > MAX_STEPS:
        raise StepsInvalid(INVALID_STEPS, f"at most {MAX_STEPS} steps")
    seen: set[str] = set()
    for n, step in enumerate(steps, 1):
        if step.id:
            if step.id in seen:
                raise StepsInvalid(INVALID_STEPS, f"step {n}: id {step.id!r} appears twice")
            seen.add(step.id)
        if step.type == StepType.WAIT:
            if step.seconds is None or step.seconds <= 0:
                raise StepsInvalid(INVALID_STEPS, f"step {n}: a WAIT needs a positive duration")
            if step.seconds > MAX_WAIT_SECONDS:
                raise StepsInvalid(INVALID_STEPS, f"step {n}: a WAIT can be at most a year")
        else:
            if not step.template:
                raise StepsInvalid(INVALID_STEPS, f"step {n}: a SEND_EMAIL needs a template")
            if not (step.subject or "").strip():
                raise StepsInvalid(INVALID_STEPS, f"step {n}: a SEND_EMAIL needs a subject")
            if templates is not None and step.template not in templates:
                raise StepsInvalid(UNKNOWN_TEMPLATE, f"step {n}: there is no email template {step.template!r}")


def subject_tags_not_allowed(subject: str) -> list[str]:
    """The tags in a subject template other than if/for, in order (empty when it is fine).
    Checked before the template is compiled: compiling `{% include '../x' %}` already fails."""
    found = []
    for token in _TEMPLATE_TOKEN.findall(subject):
        if token.startswith("{%"):
            name = (token[2:-2].split() or [""])[0]
            if name not in SUBJECT_TAGS:
                found.append(name or "(empty tag)")
    return found


# --- durations ------------------------------------------------------------------------------

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)\s*([wdhms])")


def parse_duration(text: str) -> int:
    """'2d 4h', '90m', '45s' or a bare number of seconds -> seconds; ValueError otherwise."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        return int(cleaned)
    parts = _PART.findall(cleaned)
    if not parts or _PART.sub("", cleaned).strip():
        raise ValueError(f"{text!r} is not a duration like 2d 4h, 90m or 45s")
    return sum(int(n) * _UNITS[unit] for n, unit in parts)


def format_duration(seconds: float) -> str:
    left, out = int(seconds), []
    for unit, size in _UNITS.items():
        if left >= size:
            out.append(f"{left // size}{unit}")
            left %= size
    return " ".join(out) or "0s"


# --- where an enrollment stands after an edit -------------------------------------------------

def position_after_edit(old: Sequence[Step], current: int, new: Sequence[Step], done: Collection[str]) -> int:
    """The index in `new` an enrollment continues from.

    It is the step the enrollment was on, if that step survived; else the next old step that
    survived; else the step after the last one it has done. Steps it has done are skipped when
    reached, so a step already sent is never sent again, wherever the edit moved it."""
    where = {step.id: n for n, step in enumerate(new)}
    for step in old[current:]:
        if step.id in where:
            return where[step.id]
    finished = [where[i] for i in done if i in where]
    if finished:
        return max(finished) + 1
    return min(current, len(new))
