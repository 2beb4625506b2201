"""The cadences API for the shop's integrations, by API token: list, create and edit cadences
(`cadences:read` / `cadences:write`). Enrollments and unsubscribes are in
cadence_enrollments_api.py; both share the scope check, the error mapping and the lookups
here. The same domain operations as the admin panel; the actor recorded is `token:<id>`.

Like the rest of `/api/staff/`, it takes API tokens only (no staff session cookie), so a
cross-site page can never drive it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import ValidationError as PydanticError
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.client import CadenceError
from domains.cadences.messages import CadenceDefinition, Propagation, SaveCadence, Trigger
from domains.identity.roles import Scope

from .. import services
from ..accounts.principals import ApiClient
from ..accounts.tokens import api_client, require_scope
from ..cadence_email import template_names
from ..unavailable import UNAVAILABLE as TEMPORAL_DOWN
from .cadences_serializers import CadenceBody, SaveCadenceBody, checked, steps_of
from .errors import ApiError
from .shop_errors import CADENCES, api_error, snake

ERROR = OpenApiTypes.OBJECT
CADENCE = OpenApiParameter("cadence", OpenApiTypes.STR, OpenApiParameter.PATH, description="The cadence's id.")
BEST_EFFORT_SECONDS = 10  # live extras (counts, propagation) are left out rather than waited for
UNREACHABLE = (*TEMPORAL_DOWN, RuntimeError)

# domain code -> HTTP status; the API code is the snake_case of the domain code (shop_errors.CADENCES)
STATUS = {code: http for code, (http, _) in CADENCES.items()}
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTACT_ID = re.compile(r"[0-9a-f]{20}")


api_code = snake


def cadence_error(exc: CadenceError) -> ApiError:
    return api_error(exc)


@contextmanager
def cadence_errors() -> Iterator[None]:
    """Domain refusals -> their codes; a value the domain refuses -> 400; Temporal unreachable -> 503."""
    try:
        yield
    except CadenceError as exc:
        raise cadence_error(exc) from None
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError("invalid_parameter", f"{field}: {first['msg']}", parameter=field) from None
    except UNREACHABLE as exc:
        raise ApiError("service_unavailable", f"the shop cannot reach its workflows right now ({exc})",
                       status.HTTP_503_SERVICE_UNAVAILABLE) from None


def run(fn, timeout: float | None = None, *, within_budget: bool = True) -> Any:
    """`await fn(client)` on the process's Temporal loop (within the request's budget unless told)."""
    return services.temporal().run(fn, timeout=timeout, within_budget=within_budget)


def best_effort(fn) -> Any:
    """`await fn(client)`, or None when Temporal (or its visibility) cannot answer quickly."""
    try:
        return run(fn, timeout=BEST_EFFORT_SECONDS)
    except UNREACHABLE:
        return None


def reader(request: Request) -> ApiClient:
    """Reading takes `cadences:read`; a token that may write may read too."""
    client = api_client(request)
    if client is not None and client.has(Scope.CADENCES_WRITE):
        return client
    return require_scope(request, Scope.CADENCES_READ)


def definition_of(cadence: str) -> CadenceDefinition:
    found = reads.cadence(services.store(), cadence) if _ID.fullmatch(cadence) else None
    if found is None:
        raise ApiError("cadence_not_found", f"no cadence {cadence[:64]!r}", status.HTTP_404_NOT_FOUND)
    return found


def contact_key(contact: str) -> str:
    """The contact id a path names: a contact id, or an email address; 404 otherwise."""
    if "@" in contact:
        try:
            return cadences.contact_of(contact).contact_id
        except CadenceError:
            pass
    elif _CONTACT_ID.fullmatch(contact.lower()):
        return contact.lower()
    raise ApiError("enrollment_not_found", "name the contact by its id or email address", status.HTTP_404_NOT_FOUND)


def cadence_body(definition: CadenceDefinition, propagation: Propagation | None = None, **extra: Any) -> dict:
    body = definition.model_dump(mode="json")
    body["propagation"] = propagation.model_dump(mode="json") if propagation else None
    return {**body, **extra}


# --- cadences --------------------------------------------------------------------------------

class CadencesView(APIView):
    @extend_schema(operation_id="staff_list_cadences",
                   description="Every cadence at its latest version (scope cadences:read or cadences:write).",
                   responses={200: OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR})
    def get(self, request: Request) -> Response:
        reader(request)
        return Response({"cadences": [d.model_dump(mode="json") for d in reads.cadences(services.store())]})

    @extend_schema(operation_id="staff_create_cadence", request=CadenceBody,
                   description="Create a cadence (version 1; steps get their ids). A WAIT takes `seconds` or a "
                               "`duration` like `2d 4h`; a SEND_EMAIL names an existing template and a subject. "
                               "400 `invalid_steps`, `unknown_template` or `invalid_parameter` (scope cadences:write).",
                   responses={201: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR})
    def post(self, request: Request) -> Response:
        token = require_scope(request, Scope.CADENCES_WRITE)
        body = checked(CadenceBody, request.data)
        steps = steps_of(body["steps"])  # step ids on a new cadence: the client's 400 `unknown_step`
        with cadence_errors():
            save = SaveCadence(name=body["name"], trigger=body.get("trigger", Trigger.MANUAL),
                               active=body.get("active", True), steps=steps, actor=token.actor)
            view = run(lambda client: cadences.save_cadence(client, save, templates=template_names()))
        location = reverse("api-staff-cadence", args=[view.definition.cadence_id])
        return Response(cadence_body(view.definition, view.propagation), status=status.HTTP_201_CREATED,
                        headers={"Location": location})


class CadenceView(APIView):
    @extend_schema(operation_id="staff_get_cadence", parameters=[CADENCE],
                   description="The cadence, how far its last edit has reached the running enrollments "
                               "(`propagation`), and live `counts`: running enrollments per step id, paused ones, "
                               "ended ones by outcome (left out when the shop's workflow search cannot answer). "
                               "Scope cadences:read or cadences:write.",
                   responses={200: OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR, 404: ERROR})
    def get(self, request: Request, cadence: str) -> Response:
        reader(request)
        definition = definition_of(cadence)
        live = best_effort(lambda client: cadences.propagation(client, definition.cadence_id))
        counts = best_effort(lambda client: cadences.counts(client, definition.cadence_id,
                                                            [step.id for step in definition.steps]))
        extra = {"counts": asdict(counts)} if counts is not None else {}
        return Response(cadence_body(definition, live.propagation if live else None, **extra))

    @extend_schema(operation_id="staff_save_cadence", parameters=[CADENCE], request=SaveCadenceBody,
                   description="Save a new version. Steps that keep their `id` keep their identity: running "
                               "enrollments continue from where they are and never repeat a step already done. "
                               "`apply_to: new` leaves running enrollments on their steps. `trigger` and `active` "
                               "stay as they were when left out. 400 `unknown_step` for an id the cadence does not "
                               "have; 409 `stale_version` when `expected_version` is not the current version "
                               "(scope cadences:write).",
                   responses={200: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR})
    def put(self, request: Request, cadence: str) -> Response:
        token = require_scope(request, Scope.CADENCES_WRITE)
        current = definition_of(cadence)
        body = checked(SaveCadenceBody, request.data)
        steps = steps_of(body["steps"])
        with cadence_errors():
            save = SaveCadence(name=body["name"], trigger=body.get("trigger", current.trigger),
                               active=body.get("active", current.active), steps=steps, apply_to=body["apply_to"],
                               expected_version=body.get("expected_version"), actor=token.actor)
            view = run(lambda client: cadences.save_cadence(client, save, cadence_id=current.cadence_id,
                                                            templates=template_names()))
        return Response(cadence_body(view.definition, view.propagation))
