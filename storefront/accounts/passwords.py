"""Password checks shared by shopper and staff sign-in, on Django's hashers and validators."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import FieldDoesNotExist, ValidationError


def verify(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the account exists, so timing tells nothing."""
    if not password_hash:
        make_password(password)  # spend the same time as a real check
        return False
    return check_password(password, password_hash)


class _NoModelFields:
    """The similarity validator names the field a password resembles through `user._meta`;
    the account here is no model, so it falls back to the attribute's own name."""

    @staticmethod
    def get_field(name: str):
        raise FieldDoesNotExist(name)


def problems(password: str, email: str = "") -> list[str]:
    """Why a new password is not good enough (Django's validators), or []."""
    from types import SimpleNamespace

    user = SimpleNamespace(email=email, username=email.split("@")[0], _meta=_NoModelFields)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def hashed(password: str) -> str:
    return make_password(password)
