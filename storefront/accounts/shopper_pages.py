"""Shopper account pages under /shop/account/: sign up, sign in, sign out, and the profile.

Plain forms: POST with CSRF, a redirect after success, the form again with a 4xx status and
a stable `data-code` on refusal. Passwords are checked and hashed here (Django's hashers);
identity's workflows only ever see hashes. Signing in (or up) also decides which cart this
browser carries (`shopper_cart`). Nothing is rate-limited beyond the account lockout (five
failed sign-ins lock an account for fifteen minutes).
"""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from domains.identity import client as identity
from domains.identity import reads
from domains.identity.client import IdentityError
from domains.identity.messages import EMAIL_PATTERN, EMAIL_TAKEN, UpdateProfile

from .. import services
from .email_verification import send_verification
from .shopper_cart import carry_cart, carry_cart_after_sign_in
from .shopper_common import (
    ACCOUNT_URL,
    Refused,
    form_page,
    new_password_hash,
    notify,
    pop_notice,
    safe_next,
    signed_in,
)
from .sign_in import SignInRefused, remember_shopper, sign_in_shopper, sign_out_shopper

_EMAIL = re.compile(EMAIL_PATTERN)


def start_session(request: HttpRequest, shopper_id: str, epoch: int, to: str) -> HttpResponse:
    """After sign-up or a password reset: a fresh session for the shopper, and their cart."""
    request.session.cycle_key()
    remember_shopper(request, shopper_id, epoch)
    return carry_cart_after_sign_in(request, HttpResponseRedirect(to), shopper_id)


def _email(value: str) -> str:
    email = value.strip()
    if not _EMAIL.match(email) or len(email) > 200:
        raise Refused("invalid_email", "Enter a valid email address.")
    return email


# --- sign up ------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    context = {"next": safe_next(request), "email": "", "name": ""}
    if request.method == "GET":
        if request.shopper is not None:
            return HttpResponseRedirect(context["next"])
        return render(request, "shop/account_signup.html", context)
    email, name = request.POST.get("email", "").strip(), request.POST.get("name", "").strip()
    context.update(email=email, name=name)
    try:
        if not email or not name:
            raise Refused("missing_fields", "Enter your email, your name and a password.")
        if len(name) > 120:
            raise Refused("invalid_name", "Please keep your name under 120 characters.")
        email = _email(email)
        password_hash = new_password_hash(request.POST.get("password", ""), request.POST.get("password2", ""), email)
        try:
            view = services.call(lambda client: identity.sign_up(
                client, email, name, password_hash))
        except IdentityError as exc:
            if exc.code == EMAIL_TAKEN:
                raise Refused("email_taken", "An account with this email already exists. Sign in instead, "
                                             "or reset your password.", 409) from None
            raise
    except Refused as refused:
        return form_page(request, "shop/account_signup.html", context, refused)
    send_verification(request, view.shopper_id, view.email, view.name)  # their guest orders wait for it
    notify(request, "welcome")
    return start_session(request, view.shopper_id, view.epoch, context["next"])


# --- sign in / out ------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    context = {"next": safe_next(request), "email": ""}
    if request.method == "GET":
        if request.shopper is not None:
            return HttpResponseRedirect(context["next"])
        return render(request, "shop/account_login.html", context)
    email, password = request.POST.get("email", "").strip(), request.POST.get("password", "")
    context["email"] = email
    if not email or not password:
        return form_page(request, "shop/account_login.html", context,
                         Refused("missing_credentials", "Enter your email and password."))
    try:
        shopper_id = sign_in_shopper(request, email[:200], password)
    except SignInRefused as refused:
        return form_page(request, "shop/account_login.html", context,
                         Refused(refused.code, str(refused), refused.status))
    notify(request, "signed_in")
    return carry_cart_after_sign_in(request, HttpResponseRedirect(context["next"]), shopper_id)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Signs out and forgets the cart: on a shared computer the next person starts afresh."""
    sign_out_shopper(request)
    return carry_cart(HttpResponseRedirect("/shop/"), None)


# --- profile ------------------------------------------------------------------------------

def _account(request: HttpRequest):
    account = reads.shopper(services.store(), request.shopper.shopper_id)
    if account is None:  # cannot happen while the middleware vouches for the session
        raise Http404("no such account")
    return account


def _profile_page(request: HttpRequest, refused: Refused | None = None, form: dict | None = None) -> HttpResponse:
    account = _account(request)
    context = {"account": account, "form": form or {"name": account.name, "phone": account.phone or ""},
               "notice": pop_notice(request) if refused is None else None,
               "addresses": sorted(account.addresses, key=lambda a: not a.is_default)}
    return form_page(request, "shop/account.html", context, refused)


@require_GET
@signed_in
def account_page(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


@require_POST
@signed_in
def profile(request: HttpRequest) -> HttpResponse:
    form = {"name": request.POST.get("name", "").strip(), "phone": request.POST.get("phone", "").strip()}
    try:
        change = UpdateProfile(name=form["name"], phone=form["phone"] or None)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        message = "Enter your name (up to 120 characters)." if field == "name" else \
            "Please keep the phone number under 40 characters."
        return _profile_page(request, Refused(f"invalid_{field}", message), form)
    services.call(identity.update_profile, request.shopper.shopper_id, change)
    notify(request, "profile_saved")
    return HttpResponseRedirect(ACCOUNT_URL)

