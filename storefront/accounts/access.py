"""Decorators the staff pages use: sign-in first, then the role's permission.

`request.staff` is set by `AccountsMiddleware` (a `StaffUser` or None). Anonymous visitors
are sent to the staff sign-in page; a signed-in member of staff whose role lacks the
permission gets a 403 page naming what is missing.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from domains.identity.roles import Permission

STAFF_LOGIN_URL = "/admin/login/"


def forbidden(request: HttpRequest, permission: Permission | str) -> HttpResponse:
    return render(request, "admin_panel/forbidden.html", {"permission": str(permission)}, status=403)


def staff_required(permission: Permission | None = None):
    """Only signed-in staff (with `permission`, when given) reach the view."""

    def decorate(view):
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs):
            staff = getattr(request, "staff", None)
            if staff is None:
                return HttpResponseRedirect(f"{STAFF_LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")
            if permission is not None and not staff.can(permission):
                return forbidden(request, permission)
            return view(request, *args, **kwargs)

        guarded.staff_permission = permission
        return guarded

    return decorate


def require(request: HttpRequest, permission: Permission) -> HttpResponse | None:
    """For views with several actions: None when allowed, else the 403 page."""
    staff = getattr(request, "staff", None)
    return None if staff is not None and staff.can(permission) else forbidden(request, permission)
