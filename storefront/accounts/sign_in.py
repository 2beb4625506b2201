"""Signing in, the same way for shoppers and staff: read the account, refuse while it is
locked, check the password here (Django's hashers), then tell the account's workflow how
the attempt went so it can count failures and lock. The session starts afresh."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest

from domains.identity import client as identity
from domains.identity import reads
from domains.identity.client import IdentityError
from domains.identity.messages import ACCOUNT_DISABLED, ACCOUNT_LOCKED, NOT_REGISTERED

from .. import services
from ..order_access import SESSION_KEY as ORDERS_SESSION
from .middleware import SHOPPER_SESSION, STAFF_SESSION
from .passwords import verify

INVALID = "invalid_credentials"
LOCKED = "account_locked"
DISABLED = "account_disabled"
THROTTLED = "too_many_attempts"


class SignInRefused(Exception):
    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code, self.status = code, status


def _wrong() -> SignInRefused:
    return SignInRefused(INVALID, "That email and password don't match an account.", 401)


def _locked(until: datetime | None) -> SignInRefused:
    minutes = max(1, round(((until or datetime.now(UTC)) - datetime.now(UTC)).total_seconds() / 60))
    return SignInRefused(LOCKED, f"Too many failed attempts. Try again in about {minutes} minutes.", 423)


def check_password_counted(account, password: str, record) -> int:
    """Checks a password the way sign-in does, failures counting towards the lockout (also
    used to confirm the current password before a change). The epoch to remember in the
    session; raises SignInRefused."""
    if account is None:
        verify(password, None)
        raise _wrong()
    if account.credentials.locked_until and account.credentials.locked_until > datetime.now(UTC):
        raise _locked(account.credentials.locked_until)
    succeeded = verify(password, account.credentials.password_hash)
    try:
        outcome = services.call(record, succeeded)
    except IdentityError as exc:
        if exc.code == ACCOUNT_LOCKED:
            raise _locked(account.credentials.locked_until) from None
        if exc.code == ACCOUNT_DISABLED:
            raise SignInRefused(DISABLED, "This account is disabled.", 403) from None
        if exc.code == NOT_REGISTERED:
            raise _wrong() from None
        raise
    if not outcome.succeeded:
        raise _locked(outcome.locked_until) if outcome.locked_until else _wrong()
    return outcome.epoch


def _not_too_often(request: HttpRequest) -> None:
    from .tokens import SignInThrottle

    if not SignInThrottle().allow_request(request, None):
        raise SignInRefused(THROTTLED, "Too many sign-in attempts from here; wait a minute and try again.", 429)


def _fresh_session(request: HttpRequest) -> None:
    """A new session key at every sign-in, keeping the guest's cart and remembered orders."""
    request.session.cycle_key()


def sign_in_staff(request: HttpRequest, email: str, password: str) -> str:
    """The staff user's role, now signed in."""
    _not_too_often(request)
    account = reads.staff_by_email(services.store(), email)
    if account is not None and not account.active:
        # only someone who knows the password learns that the account exists but is disabled
        if not verify(password, account.credentials.password_hash):
            raise _wrong()
        raise SignInRefused(DISABLED, "This account is disabled.", 403)
    epoch = check_password_counted(account, password, lambda client, ok: identity.record_staff_sign_in(
        client, account.staff_id, ok))
    _fresh_session(request)
    request.session[STAFF_SESSION] = {"id": account.staff_id, "epoch": epoch}
    return account.role


def sign_in_shopper(request: HttpRequest, email: str, password: str) -> str:
    """The shopper's id, now remembered in the session."""
    _not_too_often(request)
    account = reads.shopper_by_email(services.store(), email)
    epoch = check_password_counted(account, password, lambda client, ok: identity.record_shopper_sign_in(
        client, account.shopper_id, ok))
    _fresh_session(request)
    remember_shopper(request, account.shopper_id, epoch)
    return account.shopper_id


def remember_shopper(request: HttpRequest, shopper_id: str, epoch: int) -> None:
    request.session[SHOPPER_SESSION] = {"id": shopper_id, "epoch": epoch}
    request.session["shopper_id"] = shopper_id  # what order access reads


def renew_session(request: HttpRequest) -> None:
    """The same session under a new key; the old key's row is deleted from the store, so a
    copy of the old cookie is signed out (after a password change this browser stays in)."""
    request.session.cycle_key()


def _end_session(request: HttpRequest) -> None:
    """Sessions live in the write store (storefront/session_store.py): deleting the row ends
    every copy of the cookie. A browser signed in as staff and as a shopper keeps the other
    account, under a new key; otherwise the whole session goes (Django's flush)."""
    if request.session.get(STAFF_SESSION) or request.session.get(SHOPPER_SESSION):
        renew_session(request)
    else:
        request.session.flush()


def sign_out_staff(request: HttpRequest) -> None:
    request.session.pop(STAFF_SESSION, None)
    _end_session(request)


def sign_out_shopper(request: HttpRequest) -> None:
    """The next person at this browser sees none of the shopper's orders: the orders the
    session remembers (placed or looked up while signed in) go too."""
    for key in (SHOPPER_SESSION, "shopper_id", ORDERS_SESSION):
        request.session.pop(key, None)
    _end_session(request)
