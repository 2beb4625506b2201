"""Standard Webhooks signing (https://www.standardwebhooks.com): the `standardwebhooks`
library signs `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's secret, so a
receiver verifies with any stock verifier."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from math import floor

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A 24-byte random key, base64, with the `whsec_` prefix the verifiers accept."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def valid_secret(secret: str) -> bool:
    try:
        Webhook(secret)
    except Exception:
        return False
    return secret.startswith(SECRET_PREFIX) and len(secret) > len(SECRET_PREFIX) + 16


def headers(secret: str, event_id: str, body: bytes, now: datetime | None = None,
            previous: str | None = None) -> dict[str, str]:
    """The three signature headers for one attempt (a new timestamp each time; the id stays).
    During a rotation's grace period `previous` signs too: the header carries both signatures,
    space-separated as the scheme allows, and a receiver with either secret verifies."""
    at = now or datetime.now(UTC)
    signatures = [Webhook(secret).sign(event_id, at, body)]
    if previous:
        signatures.append(Webhook(previous).sign(event_id, at, body))
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
