"""When a part the shop depends on cannot answer, say so with a 503 and Retry-After instead
of a 500 or a long hang: JSON with a stable code for the API, a short page for shoppers.

Two ways an outage reaches here. A view that waits on Temporal raises one of `UNAVAILABLE`,
which `process_exception` turns into the 503 (and each request runs within its time budget,
`request_budget`). The write store or the search index can fail anywhere, including in
middleware that reads the session or the signed-in account before any view runs: Django
turns those into its 500 handler, and `error_pages.server_error` answers 503 when the error is an
outage of one of the shop's backends, so a store outage is never reported as a bug."""

from __future__ import annotations

import sqlite3

import elastic_transport
from cassandra import OperationTimedOut, RequestExecutionException
from cassandra.cluster import NoHostAvailable
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError

from . import request_budget

UNAVAILABLE = (TemporalError, RPCError, TimeoutError, ConnectionError)  # Temporal cannot answer
# A backend that is down, overloaded or unreachable, not a query the code got wrong.
BACKENDS = (sqlite3.OperationalError, NoHostAvailable, OperationTimedOut, RequestExecutionException,
            elastic_transport.ConnectionError, elastic_transport.ConnectionTimeout)
RETRY_AFTER = "5"  # seconds: about how long a Temporal restart or a worker's return takes


def is_outage(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    # "file is not a database" and friends are the bare DatabaseError: a store file gone bad
    return isinstance(exc, UNAVAILABLE + BACKENDS) or type(exc) is sqlite3.DatabaseError


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "service_unavailable",
                             "message": "the shop cannot reach its workflows right now; try again shortly"},
                            status=503, headers={"Retry-After": RETRY_AFTER})
    try:  # the layout's error page, without the context processors (they read what is down)
        layout = "admin_panel" if request.path.startswith("/admin/") else "shop"
        html = loader.get_template(f"{layout}/error.html").render({
            "code": 503, "heading": "Back in a moment",
            "message": "The shop cannot reach its order system right now. Please try again shortly."})
    except Exception:
        html = ("<!doctype html><title>Back in a moment</title><h1>Back in a moment</h1>"
                "<p>The shop cannot reach its order system right now. Please try again shortly.</p>")
    return HttpResponse(html, status=503, headers={"Retry-After": RETRY_AFTER})


class TemporalUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_budget.budget(settings.COMMERCE.request_budget_seconds):
            response = self.get_response(request)
        if response.status_code == 503 and not response.has_header("Retry-After"):
            response["Retry-After"] = RETRY_AFTER  # e.g. an API 503 raised as an ApiError
        return response

    def process_exception(self, request, exception):
        return unavailable_response(request) if is_outage(exception) else None
