"""Deterministic ids. A contact is known by a hash of their normalised email, so the
enrollment's workflow id (`cadence-{cadence_id}-{contact_id}`) makes a second enrollment of
the same person in the same cadence meet the first, and no email address appears in a
workflow id or in visibility."""

from __future__ import annotations

import hashlib
import uuid


def normalise_email(email: str) -> str:
    return email.strip().lower()


def contact_id(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:20]


def new_cadence_id() -> str:
    return uuid.uuid4().hex[:8]


def enrollment_workflow_id(cadence_id: str, contact: str) -> str:
    return f"cadence-{cadence_id}-{contact}"


def definition_workflow_id(cadence_id: str) -> str:
    # "definition" is not 8 hex digits, so it never meets an enrollment id
    return f"cadence-definition-{cadence_id}"


def unsubscribe_workflow_id(contact: str) -> str:
    return f"cadence-unsubscribe-{contact}"


def send_key(enrollment_key: str, step_id: str, template: str | None, subject: str | None) -> str:
    """The idempotency key of one SEND_EMAIL step of one enrollment. It names the step's
    content too: an edit of a step not yet sent renders anew, while a retry of the same step
    finds the first attempt's rendering (and its send)."""
    content = hashlib.sha256(f"{template}\n{subject}".encode()).hexdigest()[:8]
    return f"{enrollment_key}:{step_id}:{content}"
