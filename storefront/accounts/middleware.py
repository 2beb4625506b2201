"""Sets `request.staff` and `request.shopper` from the session, re-checked on every request.

The session (a row in the write store) remembers only an account id and the password epoch it
signed in under. Each request re-reads the account row, so a disabled staff user, a
changed role or a changed password takes effect on the very next request, even for
sessions on other devices.
"""

from __future__ import annotations

from django.http import HttpRequest

from domains.identity import reads
from domains.identity.messages import ShopperState
from domains.identity.roles import Role

from .. import services
from .principals import Shopper, StaffUser

ACCOUNT = "_shopper_account"  # the signed-in shopper's account row as this request read it
STAFF_SESSION = "staff"  # {"id": ..., "epoch": ...}
SHOPPER_SESSION = "shopper"  # {"id": ..., "epoch": ...}; "shopper_id" mirrors the id for order access


def _staff(request: HttpRequest) -> StaffUser | None:
    remembered = request.session.get(STAFF_SESSION)
    if not remembered:
        return None
    row = reads.staff(services.store(), remembered["id"])
    if row is None or not row.active or row.role is None or row.credentials.epoch != remembered["epoch"]:
        request.session.pop(STAFF_SESSION, None)
        return None
    return StaffUser(staff_id=row.staff_id, email=row.email, name=row.name, role=Role(row.role))


def _shopper(request: HttpRequest) -> Shopper | None:
    remembered = request.session.get(SHOPPER_SESSION)
    if not remembered:
        return None
    row = reads.shopper(services.store(), remembered["id"])
    if row is None or row.credentials.epoch != remembered["epoch"]:
        request.session.pop(SHOPPER_SESSION, None)
        request.session.pop("shopper_id", None)
        return None
    setattr(request, ACCOUNT, row)  # for the request's other readers of it (signed_in_account)
    return Shopper(shopper_id=row.shopper_id, email=row.email, name=row.name,
                   email_verified=row.credentials.email_verified_at is not None)


def signed_in_account(request: HttpRequest) -> ShopperState | None:
    """The signed-in shopper's account (None: no shopper signed in), as this request's sign-in
    check read it: a cart's tax address, on every add and cart view, needs no second read of the
    row. Only this request's: the next request reads it again (see the module's docstring)."""
    shopper = getattr(request, "shopper", None)
    if shopper is None:
        return None
    django_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    account = getattr(django_request, ACCOUNT, None)
    if account is not None and account.shopper_id == shopper.shopper_id:
        return account
    return reads.shopper(services.store(), shopper.shopper_id)


class AccountsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Only requests whose session names an account read the store.
        request.staff = _staff(request)
        request.shopper = _shopper(request)
        return self.get_response(request)
