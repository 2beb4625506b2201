"""The orders' transactional email channel: Django templates and Django's email framework.

The orders worker builds it (`workers/registry.py`), so order emails go wherever the shop's
other emails go (files under the data folder by default, SMTP in production). One template
pair, `templates/order_emails/order.txt` and `order.html`, covers every kind (confirmed,
shipped, delivered, cancelled, refunded): each shows what changed, then the order's lines,
totals and address, a link that opens the order, and the shop's name and address.
Transactional: no unsubscribe link, and a cadence unsubscribe does not stop it.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from domains.labels import label

from .cadence_email import _django

# where a shopper follows a parcel, by carrier (fulfillment's carriers)
TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "DHL": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}
SUBJECTS = {
    "confirmed": "Your {shop} order {code} is confirmed",
    "shipped": "Your {shop} order {code} has shipped",
    "delivered": "Your {shop} order {code} was delivered",
    "cancelled": "Your {shop} order {code} was cancelled",
    "refunded": "A refund for your {shop} order {code}",
}


def money(cents: int, currency: str = "USD") -> str:
    """As the shop's pages show amounts (storefront/shop/browse.py, which the worker does not load)."""
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{cents // 100:,}.{cents % 100:02d}"


def tracking_url(carrier: str, number: str) -> str | None:
    template = TRACKING_URLS.get(carrier)
    return template.format(quote(number)) if template else None


class DjangoOrderEmailChannel:
    def __init__(self, store) -> None:
        _django()
        self.store = store

    def _context(self, email) -> dict:
        from domains.identity.shop_settings import read_shop_settings

        from . import email_links

        view, settings = email.order, read_shop_settings(self.store)
        cur = view.currency
        address = view.shipping_address
        shipment = None
        if email.supplier_order_id:
            so = next(x for x in view.supplier_orders if x.supplier_order_id == email.supplier_order_id)
            if so.shipment is not None:
                shipment = {"carrier": so.shipment.carrier, "tracking_number": so.shipment.tracking_number,
                            "tracking_url": tracking_url(so.shipment.carrier, so.shipment.tracking_number),
                            "lines": [{"name": li.product_name, "options": ", ".join(li.options.values()),
                                       "quantity": li.quantity} for li in so.lines]}
        refund = next((r for r in view.refunds if r.refund_id == email.refund_id), None)
        cancelled_refund = sum(r.amount for r in view.refunds if r.refund_id in (
            f"{view.order_id}-cancel", f"{view.order_id}-dropped"))
        return {
            "kind": email.kind.value, "shop_name": settings.shop_name, "shop_address": settings.shop_address,
            "name": address.first_name or view.email.split("@")[0], "code": view.confirmation_code,
            "status": label("order_status", view.status),  # the words the shop and admin pages use
            "order_link": email_links.order_url(view.order_id),
            "lines": [{"name": li.product_name, "options": ", ".join(li.options.values()), "quantity": li.quantity,
                       "total": money(li.line_total, cur)} for li in view.lines],
            "subtotal": money(view.subtotal, cur), "discount": money(view.discount, cur) if view.discount else None,
            "shipping": money(view.shipping, cur), "tax": money(view.tax, cur), "total": money(view.total, cur),
            "address": address, "shipment": shipment,
            "refund": refund and {"amount": money(refund.amount, cur), "reason": refund.reason},
            "cancelled_refund": money(cancelled_refund, cur) if cancelled_refund else None,
            "refunded_total": money(view.refunded, cur),
        }

    def render_order_email(self, email):
        from django.conf import settings
        from django.template.loader import render_to_string

        from domains.cadences.messages import RenderedEmail

        context = self._context(email)
        text = render_to_string("order_emails/order.txt", context)
        html = render_to_string("order_emails/order.html", context)
        subject = SUBJECTS[email.kind.value].format(shop=context["shop_name"], code=context["code"])
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">") or "localhost"
        key = f"{email.order.order_id}:{email.event}"
        message_id = f"<order-{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
        return RenderedEmail(to=email.order.email, subject=subject[:250], text=text, html=html,
                             message_id=message_id, headers={"X-Order-Email": email.kind.value})

    def send(self, email) -> None:
        from django.core.mail import EmailMultiAlternatives

        message = EmailMultiAlternatives(email.subject, email.text, None, [email.to],
                                         headers={**email.headers, "Message-ID": email.message_id})
        if email.html:
            message.attach_alternative(email.html, "text/html")
        message.send()
