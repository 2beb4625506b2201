"""Staff alerts about an order's payment: a dispute or an asynchronous failure reported by the
provider (POST /api/payments/webhooks/stripe -> the order's `payment_event` signal) is emailed
to the shop's owners and managers.

The order workflow runs `alert_staff` once per alerting event. The alert is at least once: a
`staff_alerts` row marks it sent only after the mail system took it, so a worker killed
between the two sends it again rather than never (a dispute is answered within days; a
duplicate email is the cheaper failure). The port (`StaffAlerts`) keeps Django out of the
domain: the worker plugs the shop's Django email (`storefront/payment_alert_email.py`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel
from temporalio import activity

from infra.store import Store, schema

log = logging.getLogger(__name__)


class PaymentAlert(BaseModel):
    alert_id: str  # the provider's event id: a redelivered event alerts once
    order_id: str
    confirmation_code: str
    meaning: str  # disputed | failed
    event_type: str  # the provider's, e.g. charge.dispute.created
    provider_id: str
    total: int
    currency: str


class StaffAlerts(Protocol):
    def payment_alert(self, alert: PaymentAlert) -> int:
        """Tell the owners and managers; the number of people told."""


class LogStaffAlerts:
    def payment_alert(self, alert: PaymentAlert) -> int:
        log.warning("order %s: payment %s (%s); staff not emailed (no alert channel)",
                    alert.confirmation_code, alert.meaning, alert.event_type)
        return 0


class AlertActivities:
    def __init__(self, store: Store, alerts: StaffAlerts):
        self.store = store
        self.alerts = alerts

    @activity.defn
    def alert_staff(self, alert: PaymentAlert) -> int:
        key = {"alert_id": alert.alert_id}
        if (self.store.get(schema.STAFF_ALERTS.name, key) or {}).get("sent_at"):
            return 0  # a retry after the mail system took it
        told = self.alerts.payment_alert(alert)
        self.store.put(schema.STAFF_ALERTS.name, {**key, "order_id": alert.order_id, "kind": alert.meaning,
                                                   "recipients": told, "sent_at": datetime.now(UTC)})
        return told
