"""How the webhooks tell a person that their endpoint was disabled: a port the worker fills
(`workers/registry.py` plugs the shop's Django email, `storefront/webhook_email.py`); without
one the notice is only logged. The domain never imports Django."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class Notifier(Protocol):
    def endpoint_disabled(self, recipient: str | None, endpoint_id: str, url: str, reason: str) -> None:
        """Tell the endpoint's creator (`recipient`, None when a token registered it) and the
        shop's owners."""


class LogNotifier:
    def endpoint_disabled(self, recipient: str | None, endpoint_id: str, url: str, reason: str) -> None:
        log.warning("webhook endpoint %s (%s) disabled: %s; %s and the owners not emailed (no notifier)",
                    endpoint_id, url, reason, recipient)


def recipient_of(created_by: str | None) -> str | None:
    """`staff:owner@shop.test` -> the email address; None for actors that are not a person."""
    if created_by and created_by.startswith("staff:") and "@" in created_by:
        return created_by.removeprefix("staff:")
    return None
