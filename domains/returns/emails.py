"""The return's email to the shopper (today: the return expired), and the port that renders and
sends it. The domain is pure Python; the worker plugs in the shop's Django adapter
(`storefront/return_email.py`), as for the order's emails."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel

from ..cadences.messages import RenderedEmail
from .messages import ReturnView


class ReturnEmailKind(StrEnum):
    EXPIRED = "expired"


class ReturnEmail(BaseModel):
    kind: ReturnEmailKind
    view: ReturnView

    @property
    def event(self) -> str:
        """Unique per order among its emails (the order_emails row it is kept under)."""
        return f"return-{self.kind.value}:{self.view.return_id}"


class ReturnEmailChannel(Protocol):
    def render_return_email(self, email: ReturnEmail) -> RenderedEmail:
        """The email, plain text and HTML, with the shop's name and address."""

    def send(self, email: RenderedEmail) -> None:
        """Hand the email to the mail system; raise if it was not accepted."""
