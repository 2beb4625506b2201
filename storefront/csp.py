"""A Content-Security-Policy on every response.

Pages load scripts and styles only from the shop's own static files (storefront/static,
served by whitenoise): no inline <script>, <style>, style="" or on*="" handlers anywhere, so
an injected one would not run. Images may be data: URIs besides the shop's own (the
rendered garment SVGs). Django 5.2 has no CSP of its own; this is the whole of it.

The garment SVGs are documents too and carry their own <style>: they get a policy that
allows only that (and nothing they could load), since a browser opening one directly
would otherwise refuse to style it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"

PAGE_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])
# an SVG image: its own inline <style>, nothing else
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def policy_for(response: HttpResponse) -> str:
    content_type = response.get("Content-Type", "")
    return SVG_POLICY if content_type.startswith("image/svg+xml") else PAGE_POLICY


class ContentSecurityPolicyMiddleware:
    """Outermost, so redirects, errors and static files get the header too; a response that
    already has one (a view that knows better) keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy_for(response)
        return response
