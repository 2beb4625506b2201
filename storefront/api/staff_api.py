"""The API for the shop's own integrations, by API token and scope: read any order
(`orders:read`), cancel, refund and annotate it (`orders:write`), and move a manual
fulfillment stage (`fulfillment:write`). The same domain operations as the admin panel
and the CLI; the actor recorded is `token:<id>`."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.fulfillment import client as fulfillment
from domains.fulfillment.client import FulfillmentError
from domains.fulfillment.messages import SupplierOrderStatus
from domains.identity.roles import Scope
from domains.orders import client as orders
from domains.orders.edits import cancel_outcome
from domains.orders.messages import OrderStatus, OrderView

from .. import services
from ..accounts.tokens import require_scope
from .errors import ApiError, validated_body
from .orders import order_errors
from .shop_errors import api_error

_REF = OpenApiParameter("reference", OpenApiTypes.STR, OpenApiParameter.PATH,
                        description="An order id or its confirmation code (case and dashes do not matter).")
_ERROR = OpenApiTypes.OBJECT


def _order(reference: str) -> OrderView:
    with order_errors():
        order_id = services.call(orders.find_order_id, reference)
        view = services.call(orders.get_order, services.store(), order_id) if order_id else None
    if view is None:
        raise ApiError("order_not_found", f"no order {reference!r}", status.HTTP_404_NOT_FOUND)
    return view


class ReasonBody(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RefundBody(serializers.Serializer):
    lines = serializers.DictField(child=serializers.IntegerField(min_value=1), required=False,
                                  help_text="variant id -> units; omit to refund everything not yet refunded")
    restock = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class NoteBody(serializers.Serializer):
    text = serializers.CharField(min_length=1, max_length=2000)


class AdvanceBody(serializers.Serializer):
    to = serializers.ChoiceField(choices=[s.value for s in SupplierOrderStatus])
    supplier_order_id = serializers.CharField(max_length=60, required=False)
    carrier = serializers.CharField(max_length=40, required=False)
    tracking_number = serializers.CharField(max_length=60, required=False)


class StaffOrderView(APIView):
    @extend_schema(operation_id="staff_get_order", parameters=[_REF],
                   description="Any order, with staff notes and actors (scope orders:read).",
                   responses={200: OpenApiTypes.OBJECT, 401: _ERROR, 403: _ERROR, 404: _ERROR})
    def get(self, request: Request, reference: str) -> Response:
        require_scope(request, Scope.ORDERS_READ)
        return Response(_order(reference).model_dump(mode="json"))


class StaffCancelView(APIView):
    @extend_schema(operation_id="staff_cancel_order", parameters=[_REF], request=ReasonBody,
                   description="Cancel and refund an order that has not shipped, or the unshipped rest of a "
                               "partly shipped one, answering with `cancelled` and `shipped` (scope orders:write). "
                               "Idempotent: a cancelled order answers 200 with itself, with no second effect.",
                   responses={200: OpenApiTypes.OBJECT, 401: _ERROR, 403: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, reference: str) -> Response:
        token = require_scope(request, Scope.ORDERS_WRITE)
        body = validated_body(ReasonBody, request)
        view = _order(reference)
        if view.status == OrderStatus.CANCELLED:  # idempotent, as the shopper's API: a retry gets the order
            return Response({**view.model_dump(mode="json"), **cancel_outcome(view)})
        with order_errors():
            view = services.call(orders.cancel, view.order_id, token.actor, body["reason"])
        return Response({**view.model_dump(mode="json"), **cancel_outcome(view)})


class StaffRefundView(APIView):
    @extend_schema(operation_id="staff_refund_order", parameters=[_REF], request=RefundBody,
                   description="Refund lines, or everything left, after delivery (scope orders:write).",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 401: _ERROR, 403: _ERROR, 404: _ERROR,
                              409: _ERROR})
    def post(self, request: Request, reference: str) -> Response:
        token = require_scope(request, Scope.ORDERS_WRITE)
        body = validated_body(RefundBody, request)
        view = _order(reference)
        with order_errors():
            view = services.call(orders.refund, view.order_id, token.actor, body.get("lines") or None,
                                 body["restock"], body["reason"])
        return Response(view.model_dump(mode="json"))


class StaffNoteView(APIView):
    @extend_schema(operation_id="staff_add_order_note", parameters=[_REF], request=NoteBody,
                   description="A staff note on the order's history (scope orders:write).",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 401: _ERROR, 403: _ERROR, 404: _ERROR,
                              409: _ERROR})
    def post(self, request: Request, reference: str) -> Response:
        token = require_scope(request, Scope.ORDERS_WRITE)
        body = validated_body(NoteBody, request)
        view = _order(reference)
        with order_errors():
            view = services.call(orders.add_note, view.order_id, token.actor, body["text"])
        return Response(view.model_dump(mode="json"))


class StaffAdvanceView(APIView):
    @extend_schema(operation_id="staff_advance_fulfillment", parameters=[_REF], request=AdvanceBody,
                   description="Move a manual supplier order of the order to its next stage "
                               "(scope fulfillment:write). Shipping needs a carrier and tracking number.",
                   responses={202: OpenApiTypes.OBJECT, 400: _ERROR, 401: _ERROR, 403: _ERROR, 404: _ERROR,
                              409: _ERROR})
    def post(self, request: Request, reference: str) -> Response:
        token = require_scope(request, Scope.FULFILLMENT_WRITE)
        body = validated_body(AdvanceBody, request)
        view = _order(reference)
        try:
            so = services.temporal().run(lambda client: fulfillment.advance(
                client, view.order_id, body["to"], supplier_order_id=body.get("supplier_order_id"),
                actor=token.actor, carrier=body.get("carrier"), tracking_number=body.get("tracking_number")))
        except FulfillmentError as exc:
            raise api_error(exc) from None
        # The signal is sent; the supplier order applies it (or refuses a taken tracking number) itself.
        return Response({"supplier_order_id": so.supplier_order_id, "from": so.status.value, "to": body["to"]},
                        status=status.HTTP_202_ACCEPTED)
