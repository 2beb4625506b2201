"""The webhooks API for the shop's integrations, by API token: list and register endpoints,
read one with its delivery log, enable or disable it, ping it, redeliver an event
(`webhooks:read` / `webhooks:write`). The same domain operations as the admin panel and
`manage.py webhooks`; the actor recorded is `token:<id>`. A registered endpoint's secret is
in the 201 answer only.

Like the rest of `/api/staff/`, it takes API tokens only (no staff session cookie)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.identity.roles import Scope
from domains.webhooks import client as webhooks
from domains.webhooks.errors import WebhookError
from domains.webhooks.messages import Endpoint, EventType

from .. import services, webhook_payloads
from ..accounts.principals import ApiClient
from ..accounts.tokens import api_client, require_scope
from .cadences_api import UNREACHABLE, run
from .cadences_serializers import checked, text
from .errors import ApiError
from .shop_errors import api_error

ERROR = OpenApiTypes.OBJECT
ENDPOINT = OpenApiParameter("endpoint", OpenApiTypes.STR, OpenApiParameter.PATH, description="The endpoint's id.")
_ENDPOINT_ID = re.compile(r"we_[0-9a-f]{16}")
EVENT_TYPES = [t.value for t in EventType if t != EventType.PING]


@require_GET
def events_schema(request: HttpRequest) -> JsonResponse:
    """The JSON schema of every webhook body (public: it documents, it holds nothing of the shop)."""
    return JsonResponse(webhook_payloads.schema(), json_dumps_params={"indent": 2, "sort_keys": True},
                        headers={"Cache-Control": "public, max-age=3600"})


class EndpointBody(serializers.Serializer):
    url = text(max_length=2000)
    events = serializers.ListField(child=text(max_length=64), min_length=1, max_length=len(EVENT_TYPES),
                                   help_text="event types: " + ", ".join(EVENT_TYPES))
    secret = text(required=False, max_length=200, help_text="whsec_… (default: a new random one)")
    description = text(required=False, allow_blank=True, max_length=200)


class ActiveBody(serializers.Serializer):
    active = serializers.BooleanField()


class RedeliverBody(serializers.Serializer):
    event_id = text(max_length=64)


@contextmanager
def webhook_errors() -> Iterator[None]:
    """Domain refusals -> their codes; Temporal unreachable -> 503."""
    try:
        yield
    except WebhookError as exc:
        raise api_error(exc) from None
    except UNREACHABLE as exc:
        raise ApiError("service_unavailable", f"the shop cannot reach its workflows right now ({exc})",
                       status.HTTP_503_SERVICE_UNAVAILABLE) from None


def reader(request: Request) -> ApiClient:
    """Reading takes `webhooks:read`; a token that may write may read too."""
    client = api_client(request)
    if client is not None and client.has(Scope.WEBHOOKS_WRITE):
        return client
    return require_scope(request, Scope.WEBHOOKS_READ)


def endpoint_of(endpoint: str) -> Endpoint:
    if _ENDPOINT_ID.fullmatch(endpoint):
        with webhook_errors():
            return webhooks.get_endpoint(services.store(), endpoint)
    raise ApiError("endpoint_not_found", f"no webhook endpoint {endpoint[:64]!r}", status.HTTP_404_NOT_FOUND)


def endpoint_body(endpoint: Endpoint) -> dict[str, Any]:
    return endpoint.model_dump(mode="json")


class EndpointsView(APIView):
    @extend_schema(operation_id="staff_list_webhooks",
                   description="Every webhook endpoint (scope webhooks:read or webhooks:write). Secrets are never "
                               "listed.",
                   responses={200: OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        reader(request)
        return Response({"endpoints": [endpoint_body(e) for e in webhooks.list_endpoints(services.store())]})

    @extend_schema(operation_id="staff_create_webhook", request=EndpointBody,
                   description="Register an endpoint: an http(s) URL and the event types it receives. The answer "
                               "holds `secret` (whsec_…), the only time it is shown; requests to the endpoint are "
                               "signed with it (Standard Webhooks). 400 `invalid_url`, `unknown_event_type`, "
                               "`no_events`, `invalid_secret` or `invalid_parameter` (scope webhooks:write).",
                   responses={201: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR})
    def post(self, request: Request) -> Response:
        token = require_scope(request, Scope.WEBHOOKS_WRITE)
        body = checked(EndpointBody, request.data)
        with webhook_errors():
            made = webhooks.register_endpoint(services.store(), body["url"], body["events"], created_by=token.actor,
                                              secret=body.get("secret"), description=body.get("description", ""))
        return Response({**endpoint_body(made.endpoint), "secret": made.secret}, status=status.HTTP_201_CREATED)


class EndpointView(APIView):
    @extend_schema(operation_id="staff_get_webhook", parameters=[ENDPOINT],
                   description="The endpoint, its deliveries (one per event: delivered, failed, gone, refused), "
                               "its latest attempts (status, latency, the start of the answer), its success "
                               "rate and its audit trail (scope webhooks:read or webhooks:write).",
                   responses={200: OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR, 404: ERROR})
    def get(self, request: Request, endpoint: str) -> Response:
        reader(request)
        found, store = endpoint_of(endpoint), services.store()
        return Response({**endpoint_body(found), "summary": webhooks.success_rate(store, found.endpoint_id),
                         "deliveries": webhooks.deliveries(store, found.endpoint_id)[-100:],
                         "attempts": webhooks.attempts(store, found.endpoint_id, limit=50),
                         "audit": webhooks.audit_log(store, found.endpoint_id)})

    @extend_schema(operation_id="staff_set_webhook_active", parameters=[ENDPOINT], request=ActiveBody,
                   description="Disable (`active: false`) or enable an endpoint; enabling forgets past failures "
                               "(scope webhooks:write).",
                   responses={200: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR})
    def patch(self, request: Request, endpoint: str) -> Response:
        token = require_scope(request, Scope.WEBHOOKS_WRITE)
        found = endpoint_of(endpoint)
        body = checked(ActiveBody, request.data)
        with webhook_errors():
            return Response(endpoint_body(webhooks.set_active(services.store(), found.endpoint_id, body["active"],
                                                              actor=token.actor)))

    @extend_schema(operation_id="staff_delete_webhook", parameters=[ENDPOINT], request=None,
                   description="Delete an endpoint: nothing more is delivered to it; its audit trail stays "
                               "(scope webhooks:write).",
                   responses={204: None, 401: ERROR, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, endpoint: str) -> Response:
        token = require_scope(request, Scope.WEBHOOKS_WRITE)
        found = endpoint_of(endpoint)
        with webhook_errors():
            webhooks.delete_endpoint(services.store(), found.endpoint_id, actor=token.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PingView(APIView):
    @extend_schema(operation_id="staff_ping_webhook", parameters=[ENDPOINT], request=None,
                   description="Queue a `webhook.ping` event for this endpoint alone; its `event_id` "
                               "(scope webhooks:write).",
                   responses={202: OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR, 404: ERROR, 503: ERROR})
    def post(self, request: Request, endpoint: str) -> Response:
        require_scope(request, Scope.WEBHOOKS_WRITE)
        found, store = endpoint_of(endpoint), services.store()
        with webhook_errors():
            event_id = run(lambda client: webhooks.ping(client, store, found.endpoint_id))
        return Response({"event_id": event_id}, status=status.HTTP_202_ACCEPTED)


class RedeliverView(APIView):
    @extend_schema(operation_id="staff_redeliver_webhook", parameters=[ENDPOINT], request=RedeliverBody,
                   description="Queue an event again for this endpoint, with the same id and body (receivers "
                               "deduplicate on `webhook-id`). 404 `event_not_found` (scope webhooks:write).",
                   responses={202: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 503: ERROR})
    def post(self, request: Request, endpoint: str) -> Response:
        require_scope(request, Scope.WEBHOOKS_WRITE)
        found, store = endpoint_of(endpoint), services.store()
        event_id = checked(RedeliverBody, request.data)["event_id"]
        with webhook_errors():
            queued = run(lambda client: webhooks.redeliver(client, store, event_id, found.endpoint_id))
        return Response({"event_id": event_id, "endpoints": queued}, status=status.HTTP_202_ACCEPTED)
