"""Emails to shoppers, through Django's email framework (EMAIL_BACKEND: by default files
under the data folder's `mail/`, SMTP in production; see settings)."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string

from domains.identity.messages import ShopperState
from domains.identity.shop_settings import read_shop_settings

from .. import services

log = logging.getLogger(__name__)


def reset_link(request: HttpRequest, shopper_id: str, token: str) -> str:
    # The host is one of ALLOWED_HOSTS (Django refuses others), so a forged Host header cannot
    # send a shopper a link to someone else's site.
    return request.build_absolute_uri(f"/shop/account/reset/{shopper_id}/{token}/")


def send_password_reset(request: HttpRequest, shopper: ShopperState, token: str) -> bool:
    """Sends the one-time reset link; False (and a log line) when the mail could not go out.

    The page answers the same either way, so a mail failure tells nobody whether the account exists."""
    context = {"name": shopper.name, "link": reset_link(request, shopper.shopper_id, token),
               "shop_name": read_shop_settings(services.store()).shop_name}
    subject = render_to_string("shop/emails/password_reset_subject.txt", context).strip()
    body = render_to_string("shop/emails/password_reset.txt", context)
    try:
        send_mail(subject, body, None, [shopper.email])  # from DEFAULT_FROM_EMAIL
    except Exception:  # SMTP down or refused: logged; the shopper may ask again
        log.exception("password reset email to shopper %s could not be sent", shopper.shopper_id)
        return False
    return True
