"""Emails the shop's owners and managers when the payment provider reports a dispute or an
asynchronous failure on an order, through Django's email framework (the shop's other emails
go the same way). The orders worker plugs it into the domain's `StaffAlerts` port
(`workers/registry.py`); the domain never imports Django."""

from __future__ import annotations

from domains.identity.reads import all_staff
from domains.orders.alerts import PaymentAlert
from infra.store import Store

from .cadence_email import _django

ALERTED_ROLES = ("owner", "manager")  # the roles that may refund and answer a dispute
WHAT = {"disputed": "The shopper's bank opened a dispute (chargeback) on this payment",
        "failed": "The payment provider reports that this payment failed"}


class DjangoStaffAlerts:
    def __init__(self, store: Store):
        self.store = store

    def payment_alert(self, alert: PaymentAlert) -> int:
        _django()
        from django.conf import settings
        from django.core.mail import send_mail

        recipients = sorted({s.email for s in all_staff(self.store) if s.active and s.role in ALERTED_ROLES})
        if not recipients:
            return 0
        page = f"{settings.COMMERCE.public_url}/admin/orders/{alert.confirmation_code}"
        amount = f"{alert.total / 100:.2f} {alert.currency.upper()}"
        send_mail(
            f"Payment {alert.meaning} on order {alert.confirmation_code}",
            f"{WHAT.get(alert.meaning, 'The payment provider reports: ' + alert.meaning)}.\n\n"
            f"Order {alert.confirmation_code} ({amount}); provider event {alert.event_type} "
            f"for {alert.provider_id} ({alert.alert_id}).\n\n"
            f"The order, its payment timeline and its history are at\n{page}\n",
            None, recipients)
        return len(recipients)
