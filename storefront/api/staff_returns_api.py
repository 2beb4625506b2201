"""The token API for returns: list and read them (`orders:read`), open one for an order (staff may
waive a closed window with a note), approve, reject, mark in transit, receive and refund
(`orders:write`). The same requests as the admin pages and the CLI (`storefront.return_staff`);
the actor recorded is `token:<id>`, acting as a manager (see return_staff)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.identity.roles import Scope
from domains.returns import reads
from domains.returns.messages import ReceivedLine, ReturnReason, ReturnStatus, ReturnView
from projections.search import SearchUnavailable

from .. import return_staff, services
from ..accounts.tokens import require_scope
from .errors import ApiError, validated_body
from .returns import (
    MAX_PAYMENT_METHOD,
    PAYMENT_METHOD_HELP,
    OpenReturnBody,
    line_requests,
    payment_method,
    return_errors,
)
from .staff_api import _REF, _order

_ERROR = OpenApiTypes.OBJECT
_RETURN = OpenApiParameter("return_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                           description="The return's id (`{code}-R{n}`) or its workflow id.")
MAX_PAGE = 200


def staff_body(view: ReturnView) -> dict:
    return {"id": view.return_id, **view.model_dump(mode="json")}


def _view(return_id: str) -> ReturnView:
    with return_errors():
        return return_staff.view(return_id.strip())


class ReturnListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=[s.value for s in ReturnStatus], required=False)
    reason = serializers.ChoiceField(choices=[r.value for r in ReturnReason], required=False)
    min_age_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, required=False, default=50)
    cursor = serializers.RegexField(r"^\d{1,9}$", required=False)


class StaffOpenReturnBody(OpenReturnBody):
    override_window = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                            help_text="why a closed return window is waived (recorded)")


class ReturnNoteBody(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReturnApproveBody(ReturnNoteBody):
    payment_method = serializers.CharField(max_length=MAX_PAYMENT_METHOD, required=False, allow_null=True,
                                           allow_blank=True, default=None,
                                           help_text=PAYMENT_METHOD_HELP + " (when the shopper named none)")


class ReturnRejectBody(serializers.Serializer):
    reason = serializers.CharField(min_length=1, max_length=2000)


class ReturnTransitBody(serializers.Serializer):
    tracking_number = serializers.RegexField(r"^[A-Za-z0-9 -]{4,60}$", max_length=60)
    carrier = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class ReceivedLineBody(serializers.Serializer):
    restock = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    damaged = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    missing = serializers.IntegerField(min_value=0, max_value=10_000, default=0)


class ReturnReceiveBody(serializers.Serializer):
    restock = serializers.ChoiceField(choices=["all", "none"], required=False,
                                      help_text="every unit back in stock (all) or every unit damaged (none)")
    lines = serializers.DictField(child=ReceivedLineBody(), required=False,
                                  help_text="line id -> {restock, damaged, missing}; wins over `restock`")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if not attrs.get("restock") and not attrs.get("lines"):
            raise serializers.ValidationError({"lines": "say what arrived: `restock` all|none or `lines`"})
        if len(attrs.get("lines") or {}) > 50:
            raise serializers.ValidationError({"lines": "at most 50 lines"})
        return attrs


class StaffReturnsView(APIView):
    @extend_schema(operation_id="staff_list_returns",
                   parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=[s.value for s in ReturnStatus]),
                               OpenApiParameter("reason", OpenApiTypes.STR, enum=[r.value for r in ReturnReason]),
                               OpenApiParameter("min_age_days", OpenApiTypes.INT),
                               OpenApiParameter("limit", OpenApiTypes.INT),
                               OpenApiParameter("cursor", OpenApiTypes.STR)],
                   description="The shop's returns from the order index, newest first (scope orders:read); "
                               "`next_cursor` pages on; 503 `search_unavailable` while the index is down.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 401: _ERROR, 403: _ERROR, 503: _ERROR})
    def get(self, request: Request) -> Response:
        require_scope(request, Scope.ORDERS_READ)
        checked = ReturnListQuery(data=request.query_params)
        checked.is_valid(raise_exception=True)
        q = checked.validated_data
        try:
            rows, cursor = reads.search_returns(services.store(), services.order_index(), status=q.get("status"),
                                                reason=q.get("reason"), min_age_days=q.get("min_age_days"),
                                                limit=q["limit"], cursor=q.get("cursor"))
        except SearchUnavailable as exc:
            raise ApiError("search_unavailable", str(exc), status.HTTP_503_SERVICE_UNAVAILABLE) from None
        return Response({"returns": [staff_body(v) for v in rows], "next_cursor": cursor})


class StaffReturnView(APIView):
    @extend_schema(operation_id="staff_get_return", parameters=[_RETURN],
                   description="One return with its history and actors (scope orders:read).",
                   responses={200: OpenApiTypes.OBJECT, 401: _ERROR, 403: _ERROR, 404: _ERROR})
    def get(self, request: Request, return_id: str) -> Response:
        require_scope(request, Scope.ORDERS_READ)
        return Response(staff_body(_view(return_id)))


class StaffOpenReturnView(APIView):
    @extend_schema(operation_id="staff_open_return", parameters=[_REF], request=StaffOpenReturnBody,
                   description="Open a return for an order's delivered lines (scope orders:write); "
                               "`override_window` waives a closed return window and is recorded.",
                   responses={201: OpenApiTypes.OBJECT, 400: _ERROR, 401: _ERROR, 402: _ERROR, 403: _ERROR,
                              404: _ERROR, 409: _ERROR})
    def post(self, request: Request, reference: str) -> Response:
        token = require_scope(request, Scope.ORDERS_WRITE)
        body = validated_body(StaffOpenReturnBody, request)
        order = _order(reference)
        with return_errors():
            view = return_staff.open_for_order(order.order_id, token.actor, return_staff.TOKEN_ROLE,
                                               line_requests(body["lines"]), body["note"].strip(),
                                               body["override_window"].strip() or None, payment_method(body))
        return Response(staff_body(view), status=status.HTTP_201_CREATED)


def _action(name: str, body_class, description: str):
    """A POST view for one staff action on a return (scope orders:write)."""

    class ActionView(APIView):
        @extend_schema(operation_id=f"staff_{name}_return", parameters=[_RETURN], request=body_class,
                       description=description + " (scope orders:write).",
                       responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 401: _ERROR, 402: _ERROR, 403: _ERROR,
                                  404: _ERROR, 409: _ERROR})
        def post(self, request: Request, return_id: str) -> Response:
            token = require_scope(request, Scope.ORDERS_WRITE)
            body = validated_body(body_class, request) if body_class is not None else {}
            current = _view(return_id)
            with return_errors():
                view = _run(name, current, token.actor, body)
            return Response(staff_body(view))

    ActionView.__name__ = ActionView.__qualname__ = f"Staff{name.title().replace('_', '')}ReturnView"
    return ActionView


def _run(name: str, current: ReturnView, actor: str, body: dict) -> ReturnView:
    role, rid = return_staff.TOKEN_ROLE, current.return_id
    if name == "approve":
        return return_staff.approve(rid, actor, role, body["note"].strip(), payment_method(body))
    if name == "reject":
        return return_staff.reject(rid, actor, role, body["reason"].strip())
    if name == "in_transit":
        return return_staff.mark_in_transit(rid, actor, role, body["tracking_number"], body["carrier"])
    if name == "receive":
        per_line = {k: ReceivedLine(**v) for k, v in (body.get("lines") or {}).items()}
        lines = return_staff.received_lines(current, body.get("restock"), per_line)
        return return_staff.receive(rid, actor, role, lines, body["note"].strip())
    if name == "refund":
        return return_staff.refund(rid, actor, role, current)
    raise ApiError("not_found", f"no action {name}", status.HTTP_404_NOT_FOUND)


StaffApproveReturnView = _action("approve", ReturnApproveBody,
                                 "Approve a requested return: a label is issued; an exchange that costs more is "
                                 "charged the difference (402 `payment_required` when neither the shopper nor "
                                 "`payment_method` names how, `payment_failed` when the card is refused)")
StaffRejectReturnView = _action("reject", ReturnRejectBody,
                                "Reject a requested return, saying why (the shopper reads it)")
StaffInTransitReturnView = _action("in_transit", ReturnTransitBody,
                                   "The parcel's tracking number: the return is on its way back")
StaffReceiveReturnView = _action("receive", ReturnReceiveBody,
                                 "Record what arrived, per line: restocked, damaged or missing units (every line "
                                 "of the return); within the support limit the refund follows")
StaffRefundReturnView = _action("refund", None, "Refund a received return that waits for a manager (above the "
                                                "support limit)")
