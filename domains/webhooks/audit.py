"""The trail of an endpoint's changes: who registered, disabled, enabled, rotated or deleted it
and when (`webhook_audit`, one partition per endpoint, newest first). The actor is the shop's
usual one: `staff:<email>` from the admin and the CLI, `token:<id>` from the API, `system` when
the shop disabled an endpoint that failed too long. The trail outlives the endpoint and is not
pruned with the delivery log."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from infra.store import Store, schema


class AuditAction(StrEnum):
    REGISTERED = "registered"
    DISABLED = "disabled"
    ENABLED = "enabled"
    ROTATED = "rotated"
    DELETED = "deleted"


# entry_id orders entries of the same millisecond (the store keeps no finer time): nanoseconds first
def record(store: Store, endpoint_id: str, actor: str, action: AuditAction, detail: str = "",
           at: datetime | None = None) -> None:
    store.put(schema.WEBHOOK_AUDIT.name, {
        "endpoint_id": endpoint_id, "at": at or datetime.now(UTC),
        "entry_id": f"{time.time_ns():020d}-{secrets.token_hex(3)}", "actor": actor or "system",
        "action": action.value, "detail": detail[:500]})


def trail(store: Store, endpoint_id: str, limit: int = 20) -> list[dict[str, Any]]:
    return store.query(schema.WEBHOOK_AUDIT.name, {"endpoint_id": endpoint_id}, limit=limit)
