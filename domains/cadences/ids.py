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
