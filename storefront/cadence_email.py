"""The cadences' email channel for this shop: Django templates and Django's email framework.

The cadences worker builds it (`workers/registry.py`), so cadence emails go wherever the
shop's other emails go: files under the data folder by default (a person can read what
was sent), SMTP in production. Templates are `templates/cadence_emails/{name}.txt`, with an
optional `{name}.html` beside it; the subject is a template string too. Every email gets an
unsubscribe link at the bottom and the List-Unsubscribe headers (one-click, RFC 8058), so no
template can leave it out.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

TEMPLATE_FOLDER = "cadence_emails"
TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,100}")


def _django() -> None:
    """The worker process may not have loaded Django yet: load the shop's settings."""
    import django
    from django.apps import apps
    from django.conf import settings

    if apps.ready:  # the web process, or already done: setting up again would reset logging
        return
    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    django.setup()


def template_folder() -> Path:
    return Path(__file__).resolve().parent / "templates" / TEMPLATE_FOLDER


def template_names() -> list[str]:
    return sorted(p.stem for p in template_folder().glob("*.txt"))


TEMPLATE_NOT_ALLOWED = "template_not_allowed"  # a tag a subject may not use (include, load, ...)
INVALID_TEMPLATE = "invalid_parameter"  # not a template at all (`{% if %}`)


def subject_problem(subject: str) -> tuple[str, str] | None:
    """(code, why) this subject cannot be a SEND_EMAIL's subject template, or None. Checked when
    a cadence is saved, because a subject that cannot render would fail every send much later.
    A subject may print values and use if/for; nothing that loads or includes other templates.
    The tags are checked on the text first: compiling some of them (a relative include) fails
    with errors that are not TemplateSyntaxError."""
    from django.template import Template
    from django.template.base import TextNode, VariableNode
    from django.template.defaulttags import ForNode, IfNode

    from domains.cadences.steps import subject_tags_not_allowed

    refused = subject_tags_not_allowed(subject)
    if refused:
        return TEMPLATE_NOT_ALLOWED, f"a subject can only print values and use if and for, not {refused[0]}"
    _django()
    try:
        parsed = Template(subject)
    except Exception as exc:  # any compile failure is the sender's bad template
        return INVALID_TEMPLATE, f"not a valid template: {exc}"
    allowed = (TextNode, VariableNode, IfNode, ForNode)
    for node in parsed.nodelist.get_nodes_by_type(object):
        if not isinstance(node, allowed):
            return (TEMPLATE_NOT_ALLOWED,
                    f"a subject can only print values and use if and for, not {type(node).__name__}")
    return None


def subject_error(subject: str) -> str | None:
    """Why this subject cannot be used (see subject_problem), or None."""
    problem = subject_problem(subject)
    return problem[1] if problem else None


class DjangoEmailChannel:
    def __init__(self, store) -> None:
        _django()
        self.store = store

    def template_names(self) -> list[str]:
        return template_names()

    def _order_is_the_contacts(self, order_id: str, email: str) -> bool:
        """A review link opens the order: only ever to the address the order belongs to."""
        from infra.store import schema

        order = self.store.get(schema.ORDERS.name, {"order_id": str(order_id)})
        return order is not None and (order.get("email") or "").strip().lower() == email.strip().lower()

    def _context(self, request) -> dict:
        from domains.identity.shop_settings import read_shop_settings

        from . import email_links

        data = request.data
        context = {
            "contact": request.contact, "name": request.contact.name or request.contact.email.split("@")[0],
            "shop_name": read_shop_settings(self.store).shop_name, "cadence_name": request.cadence_name,
            "data": data, "unsubscribe_link": email_links.unsubscribe_url(request.contact.email),
            "lines": data.get("lines", []), "order_code": data.get("order_code", ""),
        }
        if data.get("cart_id"):
            context["restore_link"] = email_links.restore_cart_url(data["cart_id"])
        if data.get("order_id") and self._order_is_the_contacts(data["order_id"], request.contact.email):
            context["review_link"] = email_links.review_order_url(data["order_id"])
        return context

    def render(self, request):
        from django.conf import settings
        from django.template import Context, Template, TemplateDoesNotExist, TemplateSyntaxError
        from django.template.loader import render_to_string

        from domains.cadences.channel import TemplateMissing, TemplateUnusable
        from domains.cadences.messages import RenderedEmail

        if not TEMPLATE_NAME.fullmatch(request.template):  # a name, never a path; a missing file raises below
            raise TemplateMissing(f"there is no email template {request.template!r}")
        context = self._context(request)
        problem = subject_error(request.subject)
        if problem:
            raise TemplateUnusable(f"the subject {request.subject!r}: {problem}")
        try:
            text = render_to_string(f"{TEMPLATE_FOLDER}/{request.template}.txt", context)
            try:
                html = render_to_string(f"{TEMPLATE_FOLDER}/{request.template}.html", context)
            except TemplateDoesNotExist:
                html = None
            subject = " ".join(Template(request.subject).render(Context(context, autoescape=False)).split())
        except TemplateDoesNotExist:
            raise TemplateMissing(f"there is no email template {request.template!r}") from None
        except TemplateSyntaxError as exc:
            raise TemplateUnusable(f"the template {request.template!r} cannot be rendered: {exc}") from None
        link = context["unsubscribe_link"]
        text = f"{text.rstrip()}\n\n--\nYou get this email from {context['shop_name']}. Unsubscribe: {link}\n"
        if html is not None:
            footer = f'<p style="font-size:12px;color:#666"><a href="{link}">Unsubscribe</a></p>'
            html = html.replace("</body>", f"{footer}</body>") if "</body>" in html else html + footer
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        message_id = f"<{hashlib.sha256(request.key.encode()).hexdigest()[:32]}@{domain}>"
        return RenderedEmail(to=request.contact.email, subject=subject[:250], text=text, html=html,
                             message_id=message_id,
                             headers={"List-Unsubscribe": f"<{link}>",
                                      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})

    def send(self, email) -> None:
        from django.core.mail import EmailMultiAlternatives

        message = EmailMultiAlternatives(email.subject, email.text, None, [email.to],
                                         headers={**email.headers, "Message-ID": email.message_id})
        if email.html:
            message.attach_alternative(email.html, "text/html")
        message.send()
