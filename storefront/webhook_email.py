"""Tells a webhook endpoint's creator and the shop's owners that the shop disabled it, through
Django's email framework (the same place the shop's other emails go). The webhooks worker plugs
it into the domain's `Notifier` port (`workers/registry.py`); the domain never imports Django
(nor identity, which sits above it: the owners are looked up here)."""

from __future__ import annotations

from domains.identity.reads import active_owners
from infra.store import Store

from .cadence_email import _django


class DjangoWebhookNotifier:
    def __init__(self, store: Store):
        self.store = store

    def endpoint_disabled(self, recipient: str | None, endpoint_id: str, url: str, reason: str) -> None:
        _django()
        from django.conf import settings
        from django.core.mail import send_mail

        recipients = list(dict.fromkeys([*([recipient] if recipient else []),
                                         *(owner.email for owner in active_owners(self.store))]))
        if not recipients:
            return

        page = f"{settings.COMMERCE.public_url}/admin/webhooks/{endpoint_id}/"
        send_mail(
            f"Webhook endpoint disabled: {url}",
            f"The shop stopped sending webhooks to {url} ({endpoint_id}): {reason}.\n\n"
            f"Its delivery log, and the button to enable it again once the receiver answers, are at\n{page}\n",
            None, recipients)
