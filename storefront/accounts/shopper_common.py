"""What the shopper account pages share: the signed-in guard, safe `next` targets, error
pages with stable codes, one-shot notices, and the rules for a new password."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from .passwords import hashed, problems

LOGIN_URL = "/shop/account/login/"
ACCOUNT_URL = "/shop/account/"
NOTICE = "account_notice"  # session key: a message for the next account page shown

NOTICES = {
    "welcome": "Welcome! Your account is ready and you are signed in. We sent you a link to confirm your "
               "email address.",
    "signed_in": "You are signed in.",
    "profile_saved": "Your profile is saved.",
    "address_saved": "The address is saved.",
    "address_removed": "The address is removed.",
    "default_address": "That address is now your default.",
    "password_changed": "Your password is changed. Other devices have been signed out.",
    "password_reset": "Your new password is set and you are signed in.",
    "verify_sent": "We sent you a link to confirm your email address.",
    "verify_not_sent": "We could not send the confirmation email just now. Please try again later.",
    "email_verified": "Your email address is confirmed. Orders you placed as a guest with it are in your account.",
    "verify_link_invalid": "That confirmation link is invalid or expired. Sign in and ask for a new one.",
}


class Refused(Exception):
    """Bad input on an account form: shown on the form with a stable code and status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


def signed_in(view):
    """Only a signed-in shopper reaches the view; anyone else goes to sign in first."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs):
        if getattr(request, "shopper", None) is None:
            back = request.get_full_path() if request.method == "GET" else ACCOUNT_URL
            return HttpResponseRedirect(f"{LOGIN_URL}?{urlencode({'next': back})}")
        return view(request, *args, **kwargs)

    return guarded


def safe_next(request: HttpRequest, default: str = ACCOUNT_URL) -> str:
    """Where to go after signing in: only a path of this shop, never another site."""
    target = (request.POST.get("next") or request.GET.get("next") or "").strip()
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    return target if safe and target.startswith("/shop/") else default


def form_page(request: HttpRequest, template: str, context: dict, refused: Refused | None = None) -> HttpResponse:
    """The form again, with the refusal's message (`<p class="error" data-code=...>`) and status."""
    if refused is None:
        return render(request, template, context)
    return render(request, template, {**context, "error": str(refused), "code": refused.code},
                  status=refused.status)


def notify(request: HttpRequest, key: str) -> None:
    request.session[NOTICE] = key


def pop_notice(request: HttpRequest) -> dict | None:
    key = request.session.pop(NOTICE, None)
    return {"code": key, "text": NOTICES[key]} if key in NOTICES else None


def new_password_hash(password: str, again: str, email: str) -> str:
    """The hash to send to the workflow, after Django's validators; raises Refused."""
    if not password:
        raise Refused("missing_password", "Choose a password.")
    if password != again:
        raise Refused("passwords_differ", "The two passwords are not the same.")
    found = problems(password, email)
    if found:
        raise Refused("weak_password", " ".join(found))
    return hashed(password)
