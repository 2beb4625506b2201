"""Django's 404 and 500 handlers and the favicon.

A shopper or a clerk who follows a dead link gets a page in the layout they were in (the shop's
header and search box, or the admin panel's), with a way back; the JSON API keeps answering
JSON with a stable code (`not_found`, `internal_error`). The 500 page renders without the
request's context processors (they read the cart and the session, which may be what failed)
and falls back to plain HTML if even that fails."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from .unavailable import is_outage, unavailable_response

FAVICON = Path(__file__).parent / "static" / "shop" / "favicon.ico"

_PLAIN_500 = ("<!doctype html><title>Something went wrong</title><h1>Something went wrong</h1>"
              "<p>We could not complete this request. Please try again.</p>")


def _layout(request: HttpRequest) -> str:
    return "admin_panel" if request.path.startswith("/admin/") else "shop"


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": "there is nothing at this address"}, status=404)
    return render(request, f"{_layout(request)}/error.html", {
        "code": 404, "heading": "We can't find that page",
        "message": "The link may be old, or the address may have a typo."}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: called while the exception is being handled. A backend outage is a 503."""
    if is_outage(sys.exc_info()[1]):
        return unavailable_response(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "internal_error", "message": "something went wrong on our side"}, status=500)
    try:
        html = loader.get_template(f"{_layout(request)}/error.html").render({
            "code": 500, "heading": "Something went wrong",
            "message": "We could not complete this request. Please try again in a moment."})
    except Exception:  # the error page never raises a second error
        html = _PLAIN_500
    return HttpResponse(html, status=500)


@cache
def _favicon() -> bytes:
    return FAVICON.read_bytes()


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico: browsers ask for it on every page that names no icon (JSON, plain pages)."""
    return HttpResponse(_favicon(), content_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})
