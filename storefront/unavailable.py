"""When Temporal cannot answer (no server, no worker polling, a timeout), say so with a 503
and Retry-After instead of a 500 or a long hang: JSON with a stable code for the API, a
short page for shoppers. Each request runs within its time budget (`request_budget`)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError

from . import request_budget

UNAVAILABLE = (TemporalError, RPCError, TimeoutError, ConnectionError)
RETRY_AFTER = "5"  # seconds: about how long a Temporal restart or a worker's return takes


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
        if not isinstance(exception, UNAVAILABLE):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "service_unavailable",
                                 "message": "the shop cannot reach its workflows right now; try again shortly"},
                                status=503, headers={"Retry-After": RETRY_AFTER})
        return HttpResponse("<!doctype html><title>Back in a moment</title><h1>Back in a moment</h1>"
                            "<p>The shop cannot reach its order system right now. Please try again shortly.</p>",
                            status=503, headers={"Retry-After": RETRY_AFTER})
