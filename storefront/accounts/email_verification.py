"""Proving an account's email address: a signed link mailed to it.

A shopper who placed orders as a guest owns them once they prove they receive mail at that
address: signing up (or signing in) with the same email is not proof, since anyone can type an
address. The link carries the account and the address, signed with SECRET_KEY under its own
salt and valid for a week; following it marks the account's email verified (identity's
`verify_email`), and from then on the orders placed as a guest with that address appear in
the account (`order_access`).
"""

from __future__ import annotations

import logging

from django.core import signing
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from domains.identity import client as identity
from domains.identity import reads
from domains.identity.client import IdentityError
from domains.identity.shop_settings import read_shop_settings

from .. import services
from .shopper_common import ACCOUNT_URL, LOGIN_URL, notify, signed_in

SALT = "accounts.verify-email"
MAX_AGE = 7 * 24 * 3600
ORDERS_URL = "/shop/orders/"
log = logging.getLogger(__name__)


def token(shopper_id: str, email: str) -> str:
    return signing.dumps({"s": shopper_id, "e": email.strip().lower()}, salt=SALT, compress=True)


def read_token(value: str) -> tuple[str, str] | None:
    """(shopper id, email) of a link this shop made in the last week, else None."""
    try:
        data = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str) or not isinstance(data.get("e"), str):
        return None
    return data["s"], data["e"]


def send_verification(request: HttpRequest, shopper_id: str, email: str, name: str) -> bool:
    """Mail the link; False (and a log line) when it could not go out."""
    shop_name = read_shop_settings(services.store()).shop_name
    # the host is one of ALLOWED_HOSTS (Django refuses others): a forged Host cannot redirect the link
    link = request.build_absolute_uri(f"/shop/account/verify/{token(shopper_id, email)}/")
    context = {"name": name, "link": link, "shop_name": shop_name}
    try:
        send_mail(f"Confirm your email for {shop_name}", render_to_string("shop/emails/verify_email.txt", context),
                  None, [email])
    except Exception:  # SMTP down or refused: logged; the shopper may ask again from the account page
        log.exception("verification email to shopper %s could not be sent", shopper_id)
        return False
    return True


@require_GET
def verify(request: HttpRequest, token_: str) -> HttpResponse:
    found = read_token(token_)
    if found is None:
        notify(request, "verify_link_invalid")
        return HttpResponseRedirect(ACCOUNT_URL)
    shopper_id, email = found
    try:
        services.call(identity.verify_email, shopper_id, email)
    except IdentityError:
        notify(request, "verify_link_invalid")
        return HttpResponseRedirect(ACCOUNT_URL)
    notify(request, "email_verified")
    shopper = getattr(request, "shopper", None)
    if shopper is not None and shopper.shopper_id == shopper_id:
        return HttpResponseRedirect(ORDERS_URL)
    return HttpResponseRedirect(f"{LOGIN_URL}?next={ORDERS_URL}")


@require_POST
@signed_in
def resend(request: HttpRequest) -> HttpResponse:
    account = reads.shopper(services.store(), request.shopper.shopper_id)
    if account is not None and account.credentials.email_verified_at is None:
        sent = send_verification(request, account.shopper_id, account.email, account.name)
        notify(request, "verify_sent" if sent else "verify_not_sent")
    return HttpResponseRedirect(ACCOUNT_URL)
