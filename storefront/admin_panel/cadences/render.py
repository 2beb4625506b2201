"""The cadence pages as responses, shared by the GET views and the POST actions (an action
that is refused shows its page again, with the reason and a 4xx status)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from domains.cadences import reads
from domains.identity.roles import Permission

from ... import services
from . import data


def missing(request: HttpRequest, what: str) -> HttpResponse:
    return render(request, "admin_panel/cadence_missing.html", {"what": what}, status=404)


def no_cadence(request: HttpRequest, cadence: str) -> HttpResponse:
    return missing(request, f"There is no cadence {cadence[:40]!r}.")


def _may(request: HttpRequest) -> dict:
    return {"can_write": request.staff.can(Permission.CADENCES_WRITE),
            "can_enroll": request.staff.can(Permission.CADENCES_ENROLL)}


def list_page(request: HttpRequest, *, status: int = 200, error: str = "", email: str = "") -> HttpResponse:
    return render(request, "admin_panel/cadences.html", {
        "rows": data.list_rows(), "error": error, "email": email, **_may(request)}, status=status)


def form_page(request: HttpRequest, form, steps, *, definition=None, status: int = 200,
              problems: list[str] | None = None, code: str = "") -> HttpResponse:
    return render(request, "admin_panel/cadence_form.html", {
        "form": form, "steps": steps, "d": definition, "problems": problems or [], "code": code,
        "action": f"{data.cadence_url(definition.cadence_id)}edit" if definition else "/admin/cadences/new"},
        status=status)


def detail_page(request: HttpRequest, cadence: str, *, status: int = 200, **extra) -> HttpResponse:
    context = data.detail(cadence)
    if context is None:
        return no_cadence(request, cadence)
    return render(request, "admin_panel/cadence.html", {**context, **_may(request), **extra}, status=status)


def enrollment_page(request: HttpRequest, cadence: str, contact: str, *, status: int = 200,
                    error: str = "", code: str = "") -> HttpResponse:
    context = data.enrollment(cadence, contact)
    if context is None:
        if reads.cadence(services.store(), cadence) is None:
            return no_cadence(request, cadence)
        return missing(request, "This contact has no enrollment in this cadence.")
    return render(request, "admin_panel/cadence_enrollment.html", {
        **context, "error": error, "code": code, **_may(request)}, status=status)
