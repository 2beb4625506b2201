"""Tells a webhook endpoint's creator that the shop disabled it, through Django's email
framework (the same place the shop's other emails go). The webhooks worker plugs it into the
domain's `Notifier` port (`workers/registry.py`); the domain never imports Django."""

from __future__ import annotations

from .cadence_email import _django


class DjangoWebhookNotifier:
    def endpoint_disabled(self, recipient: str, endpoint_id: str, url: str, reason: str) -> None:
        _django()
        from django.conf import settings
        from django.core.mail import send_mail

        page = f"{settings.COMMERCE.public_url}/admin/webhooks/{endpoint_id}/"
        send_mail(
            f"Webhook endpoint disabled: {url}",
            f"The shop stopped sending webhooks to {url} ({endpoint_id}): {reason}.\n\n"
            f"Its delivery log, and the button to enable it again once the receiver answers, are at\n{page}\n",
            None, [recipient])
