"""Changing a password (the current one first) and resetting a forgotten one by email.

A new password raises the account's epoch, which ends every other session at once; the
browser that made the change stays signed in under the new epoch. The reset request page
answers the same whether or not an account exists; its link works once, for an hour.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from domains.identity import client as identity
from domains.identity import reads
from domains.identity.client import IdentityError
from domains.identity.credentials import reset_link_valid
from domains.identity.ids import sha256
from domains.identity.messages import EMAIL_PATTERN, INVALID_RESET_LINK, NOT_REGISTERED

from .. import services
from .emails import send_password_reset
from .shopper_common import ACCOUNT_URL, Refused, form_page, new_password_hash, notify, signed_in
from .shopper_pages import start_session
from .sign_in import INVALID, SignInRefused, check_password_counted, remember_shopper, renew_session
from .tokens import ResetThrottle

_EMAIL = re.compile(EMAIL_PATTERN)
_SHOPPER_ID = re.compile(r"^[0-9a-f]{20}$")  # ids.account_id: 20 hex digits
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")  # secrets.token_urlsafe
RESET_SENT = "account_reset_sent"  # session flag: show "if an account exists, we sent a link"


# --- change -------------------------------------------------------------------------------

def _check_current(shopper_id: str, password: str) -> None:
    """The current password, checked like a sign-in: wrong ones count towards the lockout,
    so a borrowed session cannot be used to guess it. Raises Refused."""
    account = reads.shopper(services.store(), shopper_id)
    try:
        # sign_in's check (lockout, hashers, recording the attempt), shared rather than copied
        check_password_counted(account, password,
                               lambda client, ok: identity.record_shopper_sign_in(client, shopper_id, ok))
    except SignInRefused as refused:
        if refused.code == INVALID:
            raise Refused("wrong_password", "Your current password is not right.", 403) from None
        raise Refused(refused.code, str(refused), refused.status) from None


@require_http_methods(["GET", "POST"])
@signed_in
def change_password(request: HttpRequest) -> HttpResponse:
    template = "shop/account_password.html"
    if request.method == "GET":
        return render(request, template, {})
    shopper = request.shopper
    try:
        if not request.POST.get("current_password"):
            raise Refused("missing_password", "Enter your current password.")
        new_hash = new_password_hash(request.POST.get("password", ""), request.POST.get("password2", ""),
                                     shopper.email)
        _check_current(shopper.shopper_id, request.POST["current_password"])
    except Refused as refused:
        return form_page(request, template, {}, refused)
    view = services.call(identity.change_shopper_password, shopper.shopper_id, new_hash, shopper.actor)
    renew_session(request)  # a copy of this browser's cookie is signed out with the other sessions
    remember_shopper(request, shopper.shopper_id, view.epoch)  # this browser stays signed in
    notify(request, "password_changed")
    return HttpResponseRedirect(ACCOUNT_URL)


# --- reset --------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def request_reset(request: HttpRequest) -> HttpResponse:
    template = "shop/account_reset.html"
    if request.method == "GET":
        return render(request, template, {"sent": request.session.pop(RESET_SENT, False)})
    if not ResetThrottle().allow_request(request, None):
        return form_page(request, template, {}, Refused(
            "too_many_requests", "Too many reset requests from here; wait a minute and try again.", 429))
    email = request.POST.get("email", "").strip()
    if not _EMAIL.match(email) or len(email) > 200:
        return form_page(request, template, {"email": email},
                         Refused("invalid_email", "Enter the email address of your account."))
    account = reads.shopper_by_email(services.store(), email)
    if account is not None:
        try:
            token = services.call(identity.request_password_reset, account.shopper_id)
        except IdentityError as exc:
            if exc.code != NOT_REGISTERED:
                raise
        else:
            send_password_reset(request, account, token)
    # The same answer for every address, so this page tells nobody who has an account.
    request.session[RESET_SENT] = True
    return HttpResponseRedirect("/shop/account/reset/")


def _link_refused() -> Refused:
    return Refused("invalid_reset_link", "This reset link is invalid, already used or expired. "
                                         "Ask for a new one below.", 400)


def _check_link(shopper_id: str, token: str):
    """The account when the link is still good (a read: the workflow checks again on use)."""
    if not _SHOPPER_ID.match(shopper_id) or not _TOKEN.match(token):
        raise _link_refused()
    account = reads.shopper(services.store(), shopper_id)
    if account is None or not reset_link_valid(account.credentials, sha256(token), datetime.now(UTC)):
        raise _link_refused()
    return account


def _no_referrer(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest, shopper_id: str, token: str) -> HttpResponse:
    template = "shop/account_reset_confirm.html"
    try:
        account = _check_link(shopper_id, token)
    except Refused as refused:
        return _no_referrer(form_page(request, template, {"invalid": True}, refused))
    if request.method == "GET":
        return _no_referrer(render(request, template, {}))
    try:
        new_hash = new_password_hash(request.POST.get("password", ""), request.POST.get("password2", ""),
                                     account.email)
        try:
            view = services.call(identity.reset_password, shopper_id, token, new_hash)
        except IdentityError as exc:
            if exc.code in (INVALID_RESET_LINK, NOT_REGISTERED):  # used meanwhile, e.g. twice at once
                raise _link_refused() from None
            raise
    except Refused as refused:
        return _no_referrer(form_page(request, template, {"invalid": refused.code == "invalid_reset_link"},
                                      refused))
    notify(request, "password_reset")
    return start_session(request, view.shopper_id, view.epoch, ACCOUNT_URL)
