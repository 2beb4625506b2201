"""The admin panel's one-time message after a POST/redirect/GET: set by the action,
shown once by the admin layout (`messages_notice`, through the `admin_nav` context processor)."""

from __future__ import annotations

from django.http import HttpRequest

KEY = "admin_notice"


def notify(request: HttpRequest, text: str) -> None:
    request.session[KEY] = text


def take(request: HttpRequest) -> str | None:
    return request.session.pop(KEY, None)
