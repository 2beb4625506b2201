"""What the web process and activities read from the write store about cadences."""

from __future__ import annotations

from typing import Any

from infra.store import Store, schema

from .ids import contact_id
from .messages import CadenceDefinition, Trigger


def cadences(store: Store) -> list[CadenceDefinition]:
    rows = store.query(schema.CADENCES.name, {"shop": schema.SHOP})
    found = [CadenceDefinition.model_validate(row["definition"]) for row in rows if row.get("definition")]
    return sorted(found, key=lambda d: (d.name.lower(), d.cadence_id))


def cadence(store: Store, cadence_id: str) -> CadenceDefinition | None:
    row = store.get(schema.CADENCES.name, {"shop": schema.SHOP, "cadence_id": cadence_id})
    return CadenceDefinition.model_validate(row["definition"]) if row and row.get("definition") else None


def active_for(store: Store, trigger: Trigger) -> list[CadenceDefinition]:
    return [d for d in cadences(store) if d.active and d.trigger == trigger]


def versions(store: Store, cadence_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest saved versions, newest first: version, saved_at, saved_by, definition."""
    return store.query(schema.CADENCE_VERSIONS.name, {"cadence_id": cadence_id}, limit=limit)


def enrollment(store: Store, cadence_id: str, contact: str) -> dict[str, Any] | None:
    """A contact's latest enrollment row in a cadence (contact: a contact id)."""
    return store.get(schema.CADENCE_ENROLLMENTS.name, {"cadence_id": cadence_id, "contact_id": contact})


def enrollments(store: Store, cadence_id: str, limit: int | None = 500) -> list[dict[str, Any]]:
    return store.query(schema.CADENCE_ENROLLMENTS.name, {"cadence_id": cadence_id}, limit=limit)


def timeline(store: Store, enrollment_key: str) -> list[dict[str, Any]]:
    return store.query(schema.CADENCE_TIMELINE.name, {"enrollment_key": enrollment_key})


def unsubscribed(store: Store, email_or_contact: str) -> dict[str, Any] | None:
    """The unsubscribe row of a contact (given an email or a contact id), or None."""
    key = contact_id(email_or_contact) if "@" in email_or_contact else email_or_contact
    return store.get(schema.CADENCE_UNSUBSCRIBES.name, {"contact_id": key})


def outbox(store: Store, key: str) -> dict[str, Any] | None:
    return store.get(schema.CADENCE_OUTBOX.name, {"key": key})


def enrollments_of_contact(store: Store, contact: str) -> list[dict[str, Any]]:
    """A contact's enrollment in each cadence (contact: a contact id): cadence_id, status, workflow_id."""
    return store.query(schema.CADENCE_CONTACT_ENROLLMENTS.name, {"contact_id": contact})
