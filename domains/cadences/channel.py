"""The port through which cadences render and send email.

The domain is pure Python; the worker plugs in an adapter. The shop's adapter
(`storefront/cadence_email.py`) renders Django templates and sends through Django's email
framework, so cadence emails go wherever the shop's other emails go (files under the data
folder by default, SMTP in production).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from .messages import RenderedEmail, RenderRequest


class TemplateUnusable(ValueError):
    """The step's template or subject cannot be rendered: retrying can't help."""


class TemplateMissing(TemplateUnusable):
    """The step names a template that does not exist (any more)."""


class EmailChannel(Protocol):
    def template_names(self) -> Collection[str]:
        """The templates a SEND_EMAIL step may name."""

    def render(self, request: RenderRequest) -> RenderedEmail:
        """The email for one step and contact, with an unsubscribe link; TemplateMissing if
        there is no such template. Deterministic for one request, apart from the clock."""

    def send(self, email: RenderedEmail) -> None:
        """Hand the email to the mail system; raise if it was not accepted."""
