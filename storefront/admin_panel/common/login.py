"""Staff sign-in and sign-out at /admin/login/ and /admin/logout/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from domains.identity.roles import Permission, allowed

from ...accounts.access import STAFF_LOGIN_URL
from ...accounts.sign_in import SignInRefused, sign_in_staff, sign_out_staff
from .nav import NAV


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/admin/"
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    return target if safe and target.startswith("/admin/") else "/admin/"


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    context = {"next": _next(request), "email": ""}
    if request.method == "GET":
        if getattr(request, "staff", None) is not None:
            return HttpResponseRedirect(context["next"])
        return render(request, "admin_panel/login.html", context)
    email = request.POST.get("email", "").strip()
    password = request.POST.get("password", "")
    context["email"] = email
    if not email or not password:
        return render(request, "admin_panel/login.html", {**context, "error": "Enter your email and password.",
                                                          "code": "missing_credentials"}, status=400)
    try:
        role = sign_in_staff(request, email, password)
    except SignInRefused as refused:
        return render(request, "admin_panel/login.html", {**context, "error": str(refused), "code": refused.code},
                      status=refused.status)
    return HttpResponseRedirect(landing(context["next"], role))


def landing(target: str, role: str) -> str:
    """Where to go after signing in: the page asked for, or the first the role may open
    (the fulfillment role has no dashboard)."""
    if target != "/admin/" or allowed(role, Permission.DASHBOARD):
        return target
    return next((path for path, _, permission in NAV if allowed(role, permission)), target)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    sign_out_staff(request)
    return HttpResponseRedirect(STAFF_LOGIN_URL)
