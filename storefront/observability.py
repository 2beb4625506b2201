"""Request ids, request metrics and `GET /metrics` for the web processes (docs/observability.md).

`RequestObservabilityMiddleware` (outermost) takes the caller's `X-Request-ID` (a proxy's or a
client's, when it is a short token) or makes one, puts it in the log context for the request
(infra/logs.py: every log line of the request carries it, the Temporal calls' lines too) and on
the response, times the request, and counts it by route and status class.

Labels are the URL route pattern (`api/orders/<str:confirmation>`), never the raw path: one series
per route whatever the ids in it, and `unmatched` for paths no route knows (scanners).

Gunicorn runs several worker processes per web process. Each counts in its own memory, so a
scrape answered by one worker would show a fraction of the figures and jump between scrapes.
`storefront.gunicorn_conf` therefore sets `PROMETHEUS_MULTIPROC_DIR` (cleared at start) before
the workers load the app; every worker writes its figures there and `/metrics` sums them all.
Without gunicorn (tests, `manage.py` commands) the process's own registry is shown.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

from infra import logs

log = logging.getLogger("commerce.requests")

REQUEST_SECONDS = Histogram(
    "commerce_http_request_seconds", "Time to answer a web request, by route and method", ["route", "method"])
RESPONSES = Counter(
    "commerce_http_responses", "Web responses by route, method and status class (2xx, 3xx, 4xx, 5xx)",
    ["route", "method", "status_class"])

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "unmatched"
# A caller's id is kept only when it is a short plain token (it goes into every log line).
_INCOMING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
LOOPBACK = {"127.0.0.1", "::1"}


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNMATCHED


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = logs.request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)  # Django answers exceptions (500 handler) inside
            elapsed = time.perf_counter() - started
            route = route_of(request)
            method = request.method if request.method in METHODS else "other"
            REQUEST_SECONDS.labels(route, method).observe(elapsed)
            RESPONSES.labels(route, method, f"{response.status_code // 100}xx").inc()
            response["X-Request-ID"] = request_id
            log.log(logging.WARNING if response.status_code >= 500 else logging.INFO,
                    # the route, not the path: paths carry tokens (password reset links) and ids
                    "%s /%s %s %.0fms", request.method, route, response.status_code, elapsed * 1000,
                    extra={"route": route, "method": request.method, "status": response.status_code,
                           "duration_ms": round(elapsed * 1000, 1)})
            return response
        finally:
            logs.request_id.reset(token)


def _allowed(request: HttpRequest) -> bool:
    """A scraper with the token (COMMERCE_WEB_METRICS_TOKEN), or, with no token set, a client on
    this machine, only while no proxy is in front (behind one every client looks local)."""
    token = settings.COMMERCE.web_metrics_token
    if token:
        sent = request.headers.get("Authorization", "")
        return sent.startswith("Bearer ") and hmac.compare_digest(sent[len("Bearer "):].encode(), token.encode())
    return settings.NUM_PROXIES == 0 and request.META.get("REMOTE_ADDR") in LOOPBACK


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # under gunicorn: every worker's figures, summed
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("metrics need the scrape token (docs/observability.md)\n", status=403,
                            content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
