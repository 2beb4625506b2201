"""CSRF for the JSON API's calls that a browser's cookies identify.

DRF exempts its views from Django's CSRF check (it leaves CSRF to SessionAuthentication,
which the shop does not use), and JSON-only parsers are no defence: a cross-site form can
POST an empty `text/plain` body, and a cancel or a checkout submit needs no body. So an
unsafe API call that carries the session or the cart cookie must come from the shop's own
pages: an `Origin` (or, without one, a `Referer`) of this site or of `CSRF_TRUSTED_ORIGINS`,
or Django's CSRF token in the `X-CSRFToken` header. Otherwise: 403 `csrf_failed`.

Calls identified by a header (`Authorization: Bearer ...`, `X-Cart-Id`) stay as they are:
a cross-site page cannot send those headers without a CORS preflight, which the shop never
grants, so such a call cannot be forged by a browser on someone else's behalf.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware, RejectRequest
from django.templatetags.static import static
from django.utils.http import is_same_domain
from rest_framework.views import APIView

from ..cart_cookie import COOKIE as CART_COOKIE
from ..cart_cookie import HEADER as CART_HEADER

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _cookie_identified(request: HttpRequest) -> bool:
    if "Authorization" in request.headers or CART_HEADER in request.headers:
        return False
    return settings.SESSION_COOKIE_NAME in request.COOKIES or CART_COOKIE in request.COOKIES


def _trusted(request: HttpRequest, origin: str) -> bool:
    """Django's rule for CSRF_TRUSTED_ORIGINS, plus the site's own origin."""
    own = f"{'https' if request.is_secure() else 'http'}://{request.get_host()}"
    if origin == own or origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        pattern = urlsplit(trusted)
        if "*" in pattern.netloc and pattern.scheme == parts.scheme and parts.netloc \
                and is_same_domain(parts.netloc, pattern.netloc.replace("*", "", 1)):
            return True
    return False


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def refusal(request: HttpRequest) -> str | None:
    """Why this API call looks forged, or None when it may go on."""
    if request.method in SAFE_METHODS or getattr(request, "_dont_enforce_csrf_checks", False):
        return None
    if not _cookie_identified(request):
        return None
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:  # browsers send it with every cross-site POST: it decides
        return None if _trusted(request, origin) else f"Origin {origin} is not this shop"
    referer = request.META.get("HTTP_REFERER")
    if referer and _trusted(request, _origin_of(referer)):
        return None
    guard = CsrfViewMiddleware(lambda _: None)
    guard.process_request(request)  # the token's secret, from the csrftoken cookie
    try:
        guard._check_token(request)  # the X-CSRFToken header (Django's own comparison)
    except RejectRequest as exc:
        return f"no Origin of this shop and {exc.reason}"
    return None


class ApiCsrfMiddleware:
    """Runs `refusal` for every DRF view (Django's own check covers the pages' forms)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs):
        view_class = getattr(view, "cls", None)
        if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
            return None
        reason = refusal(request)
        if reason is None:
            return None
        return JsonResponse({"code": "csrf_failed", "message": f"cross-site request refused: {reason}; "
                             "send the csrftoken cookie's value in the X-CSRFToken header"}, status=403)


def page_refused(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW for the pages' forms: Django's own page carries an inline style the
    Content-Security-Policy blocks, and says nothing a shopper can act on."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "csrf_failed", "message": f"cross-site request refused: {reason}"}, status=403)
    page = (f'<!doctype html><title>Please try again</title><link rel="stylesheet" href="{static("shop/shop.css")}">'
            "<main><h1>Please try again</h1><p>CSRF check failed: this form had expired or did not come "
            "from this shop, so nothing was changed. Go back, reload the page and send it again.</p></main>")
    return HttpResponse(page, status=403)
