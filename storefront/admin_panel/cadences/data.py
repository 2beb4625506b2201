"""What the cadence pages show, gathered from the write store (definitions, versions,
enrollment rows, timelines) and from Temporal (live counts and lists from visibility, one
enrollment's live view, how far an edit has reached).

Visibility is eventually consistent and may be missing altogether: anything read from it
is optional on the page ("unavailable"), and the recent enrollments fall back to the store.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from temporalio.exceptions import TemporalError
from temporalio.service import RPCError

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.client import CadenceCounts
from domains.cadences.messages import (
    ALREADY_ENROLLED,
    INVALID_CONTACT,
    UNSUBSCRIBED,
    ApplyTo,
    CadenceDefinition,
    EnrollmentStatus,
    EnrollmentView,
)
from domains.cadences.steps import Step, StepType, format_duration

from ... import services

CONTACT_ID = re.compile(r"^[0-9a-f]{20}$")
RECENT = 50
# what a failed visibility or Temporal read looks like from the web process
UNREACHABLE = (RPCError, TemporalError, TimeoutError, ConnectionError)
ENDED = [s.value for s in EnrollmentStatus if s.ended]


def _run(fn, *args, **kwargs):
    return services.temporal().run(lambda client: fn(client, *args, **kwargs))


def cadence_url(cadence_id: str) -> str:
    return f"/admin/cadences/{cadence_id}/"


def enrollment_url(cadence_id: str, contact: str) -> str:
    return f"/admin/cadences/{cadence_id}/enrollments/{contact}"


def known_contact(contact: str) -> bool:
    return bool(CONTACT_ID.match(contact))


# --- the list --------------------------------------------------------------------------------

async def _running_counts(client, cadence_ids: list[str]) -> list[CadenceCounts | BaseException]:
    gate = asyncio.Semaphore(8)  # each count is several visibility queries: don't fire them all at once

    async def one(cadence_id: str):
        async with gate:
            return await cadences.counts(client, cadence_id, [])

    return await asyncio.gather(*(one(c) for c in cadence_ids), return_exceptions=True)


def list_rows() -> list[dict]:
    definitions = reads.cadences(services.store())
    try:
        found = services.temporal().run(lambda client: _running_counts(client, [d.cadence_id for d in definitions]))
    except UNREACHABLE:
        found = [None] * len(definitions)
    return [{"d": d, "url": cadence_url(d.cadence_id), "steps": len(d.steps),
             "running": c.running if isinstance(c, CadenceCounts) else None}
            for d, c in zip(definitions, found, strict=True)]


# --- one cadence -----------------------------------------------------------------------------

def _counts(definition: CadenceDefinition) -> CadenceCounts | None:
    try:
        return _run(cadences.counts, definition.cadence_id, [s.id for s in definition.steps])
    except UNREACHABLE:
        return None


def propagation_text(definition: CadenceDefinition, view) -> str:
    """How far the last edit has reached the enrollments that were running when it was saved."""
    if definition.version == 1:
        return "Version 1: nothing edited yet."
    if definition.applies_to == ApplyTo.NEW:
        return f"Version {definition.version} applies only to enrollments started since it was saved."
    if view is None:
        return "Unknown right now (the cadence's workflow did not answer)."
    p = view.propagation
    if p is None or p.version != definition.version:
        return f"Version {definition.version} kept the steps as they were: nothing to send to running enrollments."
    plural = "" if p.signalled == 1 else "s"
    if p.finished_at is not None:
        return f"Version {p.version} was sent to {p.signalled} running enrollment{plural}."
    return f"Sending version {p.version} to running enrollments ({p.signalled} so far)."


def _versions(cadence_id: str) -> list[dict]:
    out = []
    for row in reads.versions(services.store(), cadence_id):
        definition = CadenceDefinition.model_validate(row["definition"])
        out.append({"version": row["version"], "saved_at": row.get("saved_at") or definition.updated_at,
                    "saved_by": row.get("saved_by") or definition.updated_by, "applies_to": definition.applies_to.value,
                    "steps": [s.describe() for s in definition.steps], "name": definition.name})
    return out


def _recent(cadence_id: str, steps: dict[str, Step]) -> tuple[list[dict], bool]:
    """The newest enrollments (from visibility, else the store) and whether they are live."""
    rows = reads.enrollments(services.store(), cadence_id)
    by_contact = {r["contact_id"]: r for r in rows}

    def step_text(step_id: str | None) -> str:
        return steps[step_id].describe() if step_id in steps else ""

    try:
        listed = _run(cadences.list_enrollments, cadence_id, limit=RECENT)
    except UNREACHABLE:
        listed = None
    if listed is not None:
        return [{"contact_id": e.contact_id, "email": by_contact.get(e.contact_id, {}).get("email", ""),
                 "state": e.state, "step": step_text(e.step_id), "started_at": e.started_at,
                 "url": enrollment_url(cadence_id, e.contact_id)} for e in listed if e.contact_id], True
    newest = sorted(rows, key=lambda r: r.get("enrolled_at") or datetime.min, reverse=True)[:RECENT]
    return [{"contact_id": r["contact_id"], "email": r.get("email", ""), "state": r.get("status", ""),
             "step": "" if r.get("status") in ENDED else step_text(r.get("step_id")),
             "started_at": r.get("enrolled_at"), "url": enrollment_url(cadence_id, r["contact_id"])}
            for r in newest], False


def detail(cadence_id: str) -> dict | None:
    definition = reads.cadence(services.store(), cadence_id)
    if definition is None:
        return None
    counts = _counts(definition)
    try:
        view = _run(cadences.propagation, cadence_id)
    except UNREACHABLE:
        view = None
    steps = {s.id: s for s in definition.steps}
    recent, live = _recent(cadence_id, steps)
    return {
        "d": definition,
        "steps": [{"n": n, "step": s, "text": s.describe(), "here": counts.per_step.get(s.id, 0) if counts else None}
                  for n, s in enumerate(definition.steps, 1)],
        "counts": counts,
        "ended": [(status, counts.by_status.get(status, 0)) for status in ENDED] if counts else [],
        "propagation": propagation_text(definition, view),
        "versions": _versions(cadence_id),
        "recent": recent, "recent_live": live,
    }


# --- enrolling ------------------------------------------------------------------------------

OUTCOME_LABELS = {None: "enrolled", ALREADY_ENROLLED: "already enrolled", UNSUBSCRIBED: "unsubscribed",
                  INVALID_CONTACT: "invalid"}


def per_line(lines: list[tuple[str, str]], outcomes: list) -> list[dict]:
    """One row per pasted line. `enroll_many` answers once per distinct address, in the order
    they first appear; a line repeating an address says so."""
    first: dict[str, int] = {}
    for n, (email, _) in enumerate(lines, 1):
        first.setdefault(email.strip().lower(), n)
    by_email = dict(zip(first, outcomes, strict=True))
    rows = []
    for n, (email, name) in enumerate(lines, 1):
        key = email.strip().lower()
        outcome = by_email[key]
        if first[key] != n:
            rows.append({"line": n, "email": email, "name": name, "result": "duplicate",
                         "message": f"same address as line {first[key]}"})
            continue
        label = OUTCOME_LABELS.get(outcome.code, outcome.code and snake(outcome.code))
        rows.append({"line": n, "email": email, "name": name, "result": label,
                     "message": "" if outcome.code is None else outcome.message})
    return rows


def snake(code: str) -> str:
    """`AlreadyEnrolled` -> `already_enrolled`, as the API spells its codes."""
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in code).lstrip("_")


# --- one enrollment -------------------------------------------------------------------------

def _steps_of_version(cadence_id: str, version: int, definition: CadenceDefinition) -> list[Step]:
    if version == definition.version:
        return definition.steps
    for row in reads.versions(services.store(), cadence_id, limit=200):
        if row["version"] == version:
            return CadenceDefinition.model_validate(row["definition"]).steps
    return []


def _from_store(definition: CadenceDefinition, contact: str) -> dict | None:
    """The enrollment as last saved, once its workflow is gone (or Temporal cannot answer)."""
    store = services.store()
    row = reads.enrollment(store, definition.cadence_id, contact)
    if row is None:
        return None
    status = EnrollmentStatus(row["status"])
    steps = _steps_of_version(definition.cadence_id, row.get("steps_version") or 0, definition)
    current = row.get("current_step") or 0
    return {
        "email": row.get("email", ""), "name": row.get("name", ""), "status": status, "current_step": current,
        "steps": steps, "steps_version": row.get("steps_version") or 0,
        # the row keeps the position, not the list of done steps: those before it are done
        "done": {s.id for s in (steps if status == EnrollmentStatus.COMPLETED else steps[:current])},
        "wait_left": None, "enrolled_at": row.get("enrolled_at"), "enrolled_by": row.get("enrolled_by", ""),
        "source": row.get("source", ""), "ended_reason": row.get("ended_reason", ""),
        "timeline": [{"at": e["at"], "kind": e["kind"], "step_id": e.get("step_id"), "detail": e.get("detail", "")}
                     for e in reads.timeline(store, row["enrollment_key"])] if row.get("enrollment_key") else [],
    }


def _from_view(view: EnrollmentView) -> dict:
    return {
        "email": view.contact.email, "name": view.contact.name, "status": view.status,
        "current_step": view.current_step, "steps": view.steps, "steps_version": view.steps_version,
        "done": set(view.done), "wait_left": view.wait_seconds_left, "enrolled_at": view.enrolled_at,
        "enrolled_by": view.enrolled_by, "source": view.source.value, "ended_reason": view.ended_reason,
        "timeline": [e.model_dump() for e in view.timeline],
    }


def enrollment(cadence_id: str, contact: str) -> dict | None:
    definition = reads.cadence(services.store(), cadence_id)
    if definition is None or not known_contact(contact):
        return None
    try:
        view = _run(cadences.get_enrollment, cadence_id, contact)
        live = view is not None
    except UNREACHABLE:
        view, live = None, False
    e = _from_view(view) if view is not None else _from_store(definition, contact)
    if e is None:
        return None
    status: EnrollmentStatus = e["status"]
    steps: list[Step] = e["steps"]
    names = {s.id: s.describe() for s in steps}
    rows = []
    for n, s in enumerate(steps):
        here = n == e["current_step"] and not status.ended
        rows.append({"n": n + 1, "text": s.describe(), "id": s.id, "done": s.id in e["done"], "current": here,
                     "wait_left": format_duration(e["wait_left"]) if here and s.type == StepType.WAIT
                     and e["wait_left"] is not None else ""})
    current = steps[e["current_step"]] if e["current_step"] < len(steps) and not status.ended else None
    return {
        "d": definition, "contact_id": contact, "e": e, "live": live, "status": status.value,
        "ended": status.ended, "paused": status == EnrollmentStatus.PAUSED,
        "current": current.describe() if current else "", "steps": rows,
        "wait_left": format_duration(e["wait_left"]) if e["wait_left"] is not None else "",
        "timeline": [{**t, "step": names.get(t.get("step_id") or "", t.get("step_id") or "")} for t in e["timeline"]],
        "url": enrollment_url(cadence_id, contact),
    }
