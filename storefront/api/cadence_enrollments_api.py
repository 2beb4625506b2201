"""The cadences API's enrollments, by API token: list and enroll contacts, read one
enrollment, pause, resume or cancel it (`cadences:read` / `cadences:write`), and unsubscribe
a contact from every cadence (`cadences:write`). The actor recorded is `token:<id>`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.client import EnrollOutcome
from domains.cadences.messages import CadenceDefinition, EnrollmentStatus
from domains.identity.roles import Scope

from .. import services
from ..accounts.tokens import require_scope
from .cadences_api import (
    CADENCE,
    ERROR,
    STATUS,
    api_code,
    best_effort,
    cadence_errors,
    contact_key,
    definition_of,
    reader,
    run,
)
from .cadences_serializers import EnrollBody, EnrollmentActionBody, EnrollmentsQuery, UnsubscribeBody, checked
from .errors import ApiError

CONTACT = OpenApiParameter("contact", OpenApiTypes.STR, OpenApiParameter.PATH,
                           description="The contact's id (20 hex digits) or email address.")
ACTION = OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["pause", "resume", "cancel"])
ACTIONS = {"pause": cadences.pause, "resume": cadences.resume, "cancel": cadences.cancel}
ENDED = {s.value for s in EnrollmentStatus if s.ended}
ENROLL_SECONDS = 120  # up to 500 workflow starts


# --- enrolling ---------------------------------------------------------------------------------

def outcome_body(outcome: EnrollOutcome) -> dict[str, Any]:
    if outcome.workflow_id:
        return {"email": outcome.email, "enrolled": True, "contact_id": outcome.workflow_id.rsplit("-", 1)[1],
                "workflow_id": outcome.workflow_id}
    return {"email": outcome.email, "enrolled": False, "code": api_code(outcome.code or "NotEnrolled"),
            "message": outcome.message}


def enrolled_response(outcomes: list[EnrollOutcome]) -> Response:
    """201 when every contact was enrolled, 200 when some were; when none was, an error: the
    shared refusal's code and status (409 `unsubscribed`, ...), or 409 `not_enrolled`."""
    results = [outcome_body(o) for o in outcomes]
    enrolled = sum(1 for o in outcomes if o.workflow_id)
    if enrolled == len(outcomes):
        return Response({"results": results}, status=status.HTTP_201_CREATED)
    if enrolled:
        return Response({"results": results}, status=status.HTTP_200_OK)
    codes = {o.code for o in outcomes}
    if len(codes) == 1:
        code = codes.pop() or "NotEnrolled"
        message = (outcomes[0].message if len(outcomes) == 1
                   else f"none of the contacts could be enrolled ({api_code(code)})")
        raise ApiError(api_code(code), message, STATUS.get(code, status.HTTP_409_CONFLICT), results=results)
    raise ApiError("not_enrolled", "none of the contacts could be enrolled; each result says why",
                   status.HTTP_409_CONFLICT, results=results)


class EnrollmentsView(APIView):
    @extend_schema(operation_id="staff_list_enrollments", parameters=[CADENCE, EnrollmentsQuery],
                   description="The cadence's newest enrollments, optionally in one state, from the shop's workflow "
                               "search (`source: visibility`), or from the store when that cannot answer "
                               "(`source: store`). Scope cadences:read or cadences:write.",
                   responses={200: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR})
    def get(self, request: Request, cadence: str) -> Response:
        reader(request)
        definition = definition_of(cadence)
        query = checked(EnrollmentsQuery, request.query_params)
        rows = reads.enrollments(services.store(), definition.cadence_id, limit=None)
        live = best_effort(lambda client: cadences.list_enrollments(
            client, definition.cadence_id, state=query.get("state"), limit=query["limit"]))
        if live is None:
            chosen = [r for r in rows if not query.get("state") or r.get("status") == query["state"]]
            chosen.sort(key=lambda r: str(r.get("enrolled_at") or ""), reverse=True)
            return Response({"source": "store", "enrollments": [_row_summary(r) for r in chosen[:query["limit"]]]})
        by_contact = {r["contact_id"]: r for r in rows}
        return Response({"source": "visibility", "enrollments": [
            {"contact_id": e.contact_id, "email": by_contact.get(e.contact_id, {}).get("email"),
             "name": by_contact.get(e.contact_id, {}).get("name"), "workflow_id": e.workflow_id, "status": e.state,
             "step_id": e.step_id or None, "started_at": e.started_at, "closed_at": e.closed_at}
            for e in live]})

    @extend_schema(operation_id="staff_enroll_contacts", parameters=[CADENCE], request=EnrollBody,
                   description="Enroll up to 500 contacts, each with the optional `data`. 201 when every contact "
                               "was enrolled; 200 when some were (each result says `enrolled` or why not: "
                               "`already_enrolled`, `unsubscribed`, `invalid_contact`); when none was, the shared "
                               "reason as an error (e.g. 409 `unsubscribed`) or 409 `not_enrolled`, with the "
                               "results. 409 `cadence_inactive` for an inactive cadence (scope cadences:write).",
                   responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR,
                              404: ERROR, 409: ERROR})
    def post(self, request: Request, cadence: str) -> Response:
        token = require_scope(request, Scope.CADENCES_WRITE)
        definition = definition_of(cadence)
        if not definition.active:
            raise ApiError("cadence_inactive", f"cadence {definition.name!r} is not active", status.HTTP_409_CONFLICT)
        body = checked(EnrollBody, request.data)
        store = services.store()
        with cadence_errors():
            contacts = [(c["email"], c.get("name", "")) for c in body["contacts"]]
            outcomes = run(lambda client: cadences.enroll_many(
                client, store, definition.cadence_id, contacts, actor=token.actor, data=body["data"]),
                timeout=ENROLL_SECONDS, within_budget=False)
        return enrolled_response(outcomes)


# --- one enrollment ---------------------------------------------------------------------------

def _row_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {"contact_id": row.get("contact_id"), "email": row.get("email"), "name": row.get("name"),
            "workflow_id": row.get("workflow_id"), "status": row.get("status"), "step_id": row.get("step_id"),
            "started_at": row.get("enrolled_at"), "closed_at": row.get("updated_at") if row.get("status") in ENDED
            else None}


def stored_enrollment(definition: CadenceDefinition, row: dict[str, Any]) -> dict[str, Any]:
    """The enrollment as the store last saw it, when its workflow can no longer be asked."""
    key = row.get("enrollment_key")
    timeline = reads.timeline(services.store(), key) if key else []
    return {
        "workflow_id": row.get("workflow_id"), "cadence_id": definition.cadence_id, "cadence_name": definition.name,
        "contact": {"email": row.get("email"), "name": row.get("name") or "", "contact_id": row.get("contact_id")},
        "status": row.get("status"), "current_step": row.get("current_step"), "step_id": row.get("step_id"),
        "steps_version": row.get("steps_version"), "enrolled_at": row.get("enrolled_at"),
        "enrolled_by": row.get("enrolled_by"), "source": row.get("source"), "ended_reason": row.get("ended_reason"),
        "timeline": [{k: entry.get(k) for k in ("seq", "at", "kind", "step_id", "detail")} for entry in timeline],
        "live": False,
    }


def enrollment_body(definition: CadenceDefinition, contact: str) -> dict[str, Any] | None:
    """The live enrollment (its workflow's query), else its row in the store, else None."""
    view = best_effort(lambda client: cadences.get_enrollment(client, definition.cadence_id, contact))
    if view is not None:
        return {**view.model_dump(mode="json"), "live": True}
    row = reads.enrollment(services.store(), definition.cadence_id, contact)
    return stored_enrollment(definition, row) if row else None


def _not_found(definition: CadenceDefinition) -> ApiError:
    return ApiError("enrollment_not_found", f"this contact is not enrolled in {definition.name!r}",
                    status.HTTP_404_NOT_FOUND)


class EnrollmentView(APIView):
    @extend_schema(operation_id="staff_get_enrollment", parameters=[CADENCE, CONTACT],
                   description="A contact's enrollment: status (running, waiting, paused, completed, cancelled, "
                               "failed), current step, steps and their version, timeline. `live: false` when it "
                               "comes from the store because its workflow is gone. Scope cadences:read or "
                               "cadences:write.",
                   responses={200: OpenApiTypes.OBJECT, 401: ERROR, 403: ERROR, 404: ERROR})
    def get(self, request: Request, cadence: str, contact: str) -> Response:
        reader(request)
        definition = definition_of(cadence)
        body = enrollment_body(definition, contact_key(contact))
        if body is None:
            raise _not_found(definition)
        return Response(body)


class EnrollmentActionView(APIView):
    @extend_schema(operation_id="staff_change_enrollment", parameters=[CADENCE, CONTACT, ACTION],
                   request=EnrollmentActionBody,
                   description="Pause, resume or cancel an enrollment (`reason` is kept with a cancel); the "
                               "enrollment after it. 409 `enrollment_ended` once it has ended (scope cadences:write).",
                   responses={200: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request: Request, cadence: str, contact: str, action: str) -> Response:
        token = require_scope(request, Scope.CADENCES_WRITE)
        change = ACTIONS.get(action)
        if change is None:
            raise ApiError("not_found", "the actions are pause, resume and cancel", status.HTTP_404_NOT_FOUND)
        definition = definition_of(cadence)
        key = contact_key(contact)
        body = checked(EnrollmentActionBody, request.data)
        args = (body["reason"],) if action == "cancel" else ()
        with cadence_errors():  # an enrollment that has ended: 409 `enrollment_ended`, from the client
            view = run(lambda client: change(client, definition.cadence_id, key, token.actor, *args))
        return Response({**view.model_dump(mode="json"), "live": True})


# --- unsubscribing --------------------------------------------------------------------------

class UnsubscribesView(APIView):
    @extend_schema(operation_id="staff_unsubscribe", request=UnsubscribeBody,
                   description="The contact gets no more cadence email: recorded before this answers (no later send "
                               "goes out); their running enrollments are cancelled right after "
                               "(`enrollments_ending`). Unsubscribing twice keeps the first time (scope "
                               "cadences:write).",
                   responses={200: OpenApiTypes.OBJECT, 400: ERROR, 401: ERROR, 403: ERROR})
    def post(self, request: Request) -> Response:
        token = require_scope(request, Scope.CADENCES_WRITE)
        body = checked(UnsubscribeBody, request.data)
        with cadence_errors():
            contact = cadences.contact_of(body["email"])
            result = run(lambda client: cadences.unsubscribe(client, contact.email, token.actor))
        running = [r for r in reads.enrollments_of_contact(services.store(), result.contact_id)
                   if r.get("status") not in ENDED]
        return Response({"email": contact.email, "contact_id": result.contact_id,
                         "unsubscribed_at": result.unsubscribed_at, "enrollments_ending": len(running)})

