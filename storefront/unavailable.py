"""When Temporal cannot answer (no server, no worker polling, a timeout), say so with a 503
instead of a 500: JSON with a stable code for the API, a short page for shoppers."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError

UNAVAILABLE = (TemporalError, RPCError, TimeoutError, ConnectionError)


class TemporalUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "service_unavailable",
                                 "message": "the shop cannot reach its workflows right now; try again shortly"},
                                status=503, headers={"Retry-After": "5"})
        return HttpResponse("<!doctype html><title>Back in a moment</title><h1>Back in a moment</h1>"
                            "<p>The shop cannot reach its order system right now. Please try again shortly.</p>",
                            status=503, headers={"Retry-After": "5"})
