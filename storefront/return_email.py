"""The returns' email channel: Django templates and Django's email framework (built by the
returns worker, `workers/registry.py`), so a return's email goes wherever the shop's other
emails go. One template pair, `templates/return_emails/return.txt` and `return.html`: today
the one email a return sends, that it expired unshipped. Transactional: no unsubscribe link."""

from __future__ import annotations

import hashlib

from .cadence_email import _django
from .order_email import money

SUBJECTS = {"expired": "Your {shop} return {return_id} has expired"}


class DjangoReturnEmailChannel:
    def __init__(self, store) -> None:
        _django()
        self.store = store

    def render_return_email(self, email):
        from django.conf import settings
        from django.template.loader import render_to_string

        from domains.cadences.messages import RenderedEmail
        from domains.identity.shop_settings import read_shop_settings

        from . import email_links

        view, shop = email.view, read_shop_settings(self.store)
        context = {
            "kind": email.kind.value, "shop_name": shop.shop_name, "shop_address": shop.shop_address,
            "return_id": view.return_id, "code": view.confirmation_code,
            "ship_by": view.ship_by, "order_link": email_links.order_url(view.order_id),
            "lines": [{"name": li.product_name, "options": ", ".join(li.options.values()), "quantity": li.quantity,
                       "price": money(li.unit_price, view.currency)} for li in view.lines],
        }
        text = render_to_string("return_emails/return.txt", context)
        html = render_to_string("return_emails/return.html", context)
        subject = SUBJECTS[email.kind.value].format(shop=shop.shop_name, return_id=view.return_id)
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">") or "localhost"
        key = f"{view.order_id}:{email.event}"
        message_id = f"<return-{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
        return RenderedEmail(to=view.email, subject=subject[:250], text=text, html=html, message_id=message_id,
                             headers={"X-Return-Email": email.kind.value})

    def send(self, email) -> None:
        from django.core.mail import EmailMultiAlternatives

        message = EmailMultiAlternatives(email.subject, email.text, None, [email.to],
                                         headers={**email.headers, "Message-ID": email.message_id})
        if email.html:
            message.attach_alternative(email.html, "text/html")
        message.send()
