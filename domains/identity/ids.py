"""Deterministic ids. An account's id comes from its normalised email, so the Temporal
workflow id itself guarantees one account per email (no separate uniqueness table)."""

from __future__ import annotations

import hashlib

SETTINGS_WORKFLOW_ID = "shop-settings"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def account_id(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:20]


def shopper_workflow_id(shopper_id: str) -> str:
    return f"shopper-{shopper_id}"


def staff_workflow_id(staff_id: str) -> str:
    return f"staff-{staff_id}"


def token_workflow_id(token_id: str) -> str:
    return f"api-token-{token_id}"


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
