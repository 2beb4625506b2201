"""Order edits over JSON: preview, confirm, abandon (docs/domains/orders.md).

The shopper (session, or the `X-Order-Email` header as for GET /api/orders/{code}) may change
the shipping address only; staff, by API token with `orders:write`, may also change, remove
and add lines. A preview holds the extra stock and answers with the edit's lines, totals and
difference; confirm applies it (a price increase needs `payment_method`), abandon releases it.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from pydantic import ValidationError as PydanticError
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.identity.roles import Scope
from domains.orders import client as orders
from domains.orders.edit_messages import AbandonEdit, ConfirmEdit, EditOrder, EditPreview, LineChange
from domains.shared import Address

from .. import order_access as access
from .. import services
from ..accounts.tokens import require_scope
from .cart import ShippingBody
from .errors import ApiError, validated_body
from .orders import _CODE, _EMAIL, _owned, order_body, order_errors
from .staff_api import _REF, _order

_ERROR = OpenApiTypes.OBJECT


class LineChangeBody(serializers.Serializer):
    variant_id = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=0, max_value=999, help_text="0 removes the line")


class PreviewBody(serializers.Serializer):
    shipping_address = ShippingBody(required=False, help_text="the new shipping address; omit to keep it")
    lines = LineChangeBody(many=True, required=False, help_text="staff only: new quantities; a variant not on "
                                                                "the order is added")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ConfirmBody(serializers.Serializer):
    edit_id = serializers.CharField(max_length=120)
    payment_method = serializers.CharField(max_length=200, required=False,
                                           help_text="needed when the edit costs more (a payment token)")


class AbandonBody(serializers.Serializer):
    edit_id = serializers.CharField(max_length=120, required=False)


def _edit_request(body: dict, actor: str) -> EditOrder:
    raw = body.get("shipping_address")
    try:
        address = Address(**{k: v for k, v in raw.items() if v not in ("", None)}) if raw else None
        return EditOrder(actor=actor, shipping_address=address, reason=body.get("reason", ""),
                         lines=[LineChange(**line) for line in body.get("lines") or []])
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "request"
        raise ApiError("invalid_parameter", f"{field}: {first['msg']}", parameter=field) from None


def preview_body(preview: EditPreview) -> dict:
    return preview.model_dump(mode="json", exclude={"owner"})


# --- the shopper's (address only) -------------------------------------------------------------

class PreviewEditView(APIView):
    @extend_schema(operation_id="preview_order_edit", request=PreviewBody, parameters=[_CODE, _EMAIL],
                   description="Price a change of the shipping address before the order ships (a shopper may "
                               "change the address only). Answers the edit: `edit_id`, new `lines`, `before` and "
                               "`after` totals, `difference` (above 0 is charged on confirm, below 0 refunded), "
                               "`expires_at`. 409 edit_not_allowed once shipped; a new preview replaces an open one.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, confirmation: str) -> Response:
        view = _owned(request, confirmation)
        body = validated_body(PreviewBody, request)
        with order_errors():
            edit = _edit_request(body, access.actor(request, view))
            preview = services.call(orders.preview_edit, view.order_id, edit)
        return Response(preview_body(preview))


class ConfirmEditView(APIView):
    @extend_schema(operation_id="confirm_order_edit", request=ConfirmBody, parameters=[_CODE, _EMAIL],
                   description="Apply the open edit: the shipments not yet sent take it and the difference is "
                               "refunded (or charged to `payment_method`; 402 payment_required without one). 409 "
                               "supplier_order_shipped when a shipment left meanwhile (the edit is dropped), 409 "
                               "no_such_edit when it lapsed or was abandoned.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 402: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, confirmation: str) -> Response:
        view = _owned(request, confirmation)
        body = validated_body(ConfirmBody, request)
        with order_errors():
            view = services.call(orders.confirm_edit, view.order_id, ConfirmEdit(
                actor=access.actor(request, view), edit_id=body["edit_id"], payment_method=body.get("payment_method")))
        return Response(order_body(view))


class AbandonEditView(APIView):
    @extend_schema(operation_id="abandon_order_edit", request=AbandonBody, parameters=[_CODE, _EMAIL],
                   description="Drop the open edit; the stock it held is released.",
                   responses={200: OpenApiTypes.OBJECT, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, confirmation: str) -> Response:
        view = _owned(request, confirmation)
        body = validated_body(AbandonBody, request)
        with order_errors():
            view = services.call(orders.abandon_edit, view.order_id, AbandonEdit(
                actor=access.actor(request, view), edit_id=body.get("edit_id")))
        return Response(order_body(view))


# --- staff, by API token (orders:write): everything -------------------------------------------

class StaffPreviewEditView(APIView):
    @extend_schema(operation_id="staff_preview_order_edit", parameters=[_REF], request=PreviewBody,
                   description="Price an edit before shipping: the address, quantities (0 removes), added variants "
                               "(scope orders:write). Extra units are held until confirm, abandon or expiry.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 401: _ERROR, 403: _ERROR, 404: _ERROR,
                              409: _ERROR})
    def post(self, request: Request, reference: str) -> Response:
        token = require_scope(request, Scope.ORDERS_WRITE)
        body = validated_body(PreviewBody, request)
        view = _order(reference)
        with order_errors():
            preview = services.call(orders.preview_edit, view.order_id, _edit_request(body, token.actor))
        return Response(preview.model_dump(mode="json"))


class StaffConfirmEditView(APIView):
    @extend_schema(operation_id="staff_confirm_order_edit", parameters=[_REF], request=ConfirmBody,
                   description="Apply the open edit (scope orders:write); see confirm_order_edit.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 401: _ERROR, 402: _ERROR, 403: _ERROR,
                              404: _ERROR, 409: _ERROR})
    def post(self, request: Request, reference: str) -> Response:
        token = require_scope(request, Scope.ORDERS_WRITE)
        body = validated_body(ConfirmBody, request)
        view = _order(reference)
        with order_errors():
            view = services.call(orders.confirm_edit, view.order_id, ConfirmEdit(
                actor=token.actor, edit_id=body["edit_id"], payment_method=body.get("payment_method")))
        return Response(view.model_dump(mode="json"))


class StaffAbandonEditView(APIView):
    @extend_schema(operation_id="staff_abandon_order_edit", parameters=[_REF], request=AbandonBody,
                   description="Drop the open edit and release its stock (scope orders:write).",
                   responses={200: OpenApiTypes.OBJECT, 401: _ERROR, 403: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, reference: str) -> Response:
        token = require_scope(request, Scope.ORDERS_WRITE)
        body = validated_body(AbandonBody, request)
        view = _order(reference)
        with order_errors():
            view = services.call(orders.abandon_edit, view.order_id, AbandonEdit(
                actor=token.actor, edit_id=body.get("edit_id")))
        return Response(view.model_dump(mode="json"))
