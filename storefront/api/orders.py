"""The JSON order API: the caller's orders, one order, guest lookup, cancel, feedback.

Which orders are the caller's is decided in `storefront.order_access`: the session's
(orders placed or looked up with this session cookie), the signed-in shopper's, or, for
stateless clients, the order whose email comes in `X-Order-Email` with its code in the
URL. Any other code answers 404 `order_not_found`, the same as a code that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from pydantic import ValidationError as PydanticError
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.orders import client as orders
from domains.orders.client import OrderError
from domains.orders.edits import cancel_outcome
from domains.orders.messages import OrderStatus, OrderView

from .. import order_access as access
from .. import services
from ..accounts.tokens import OrderLookupThrottle
from ..unavailable import UNAVAILABLE as TEMPORAL_DOWN
from .errors import ApiError, validated_body
from .shop_errors import api_error

EMAIL_HEADER = "X-Order-Email"


def not_found() -> ApiError:
    return ApiError("order_not_found", "there is no order with that confirmation code", status.HTTP_404_NOT_FOUND)


@contextmanager
def order_errors() -> Iterator[None]:
    """Not the caller's order -> 404; domain refusals -> their codes; Temporal unreachable -> 503."""
    try:
        yield
    except access.NotFound:
        raise not_found() from None
    except OrderError as exc:
        raise api_error(exc) from None
    except PydanticError as exc:  # e.g. an actor too long for the domain's limit
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "request"
        raise ApiError("invalid_parameter", f"{field}: {first['msg']}", parameter=field) from None
    except (*TEMPORAL_DOWN, RuntimeError) as exc:
        raise ApiError("service_unavailable", f"the shop cannot reach its workflows right now ({exc})",
                       status.HTTP_503_SERVICE_UNAVAILABLE) from None


def order_body(view: OrderView) -> dict:
    """The order as its customer sees it: no customer id, no staff notes, and actors only as
    `customer` or `shop`."""
    body = view.model_dump(mode="json", exclude={"customer_id"})
    body["history"] = [{**h.model_dump(mode="json"), "actor": _who(view, h.actor)}
                       for h in access.shopper_visible_history(view)]
    body["refunds"] = [{**r.model_dump(mode="json"), "actor": _who(view, r.actor)} for r in view.refunds]
    body["progress"] = access.progress(view.status)
    # each return by its `id` (as POST /api/orders/{code}/returns answers it), with its status and refund
    body["returns"] = [{"id": r.return_id, **r.model_dump(mode="json")} for r in view.returns]
    if body.get("pending_edit"):  # its inventory owner names the checkout (and so the cart): not the shopper's
        body["pending_edit"].pop("owner", None)
    return body


def _who(view: OrderView, actor: str) -> str:
    return "customer" if access.by_customer(view, actor) else "shop"


def _owned(request: Request, confirmation: str) -> OrderView:
    email = request.headers.get(EMAIL_HEADER)
    if email is not None:  # an email + code pair is a guess like a lookup's: the same shared limit
        throttle = OrderLookupThrottle()
        if not throttle.allow_request(request, None):
            raise Throttled(throttle.wait())
    with order_errors():
        return access.owned_order(request, confirmation, email)


class OrderSummary(serializers.Serializer):
    order_id = serializers.CharField()
    confirmation_code = serializers.CharField()
    status = serializers.CharField()
    total = serializers.IntegerField(help_text="cents")
    currency = serializers.CharField()
    placed_at = serializers.DateTimeField()
    progress = serializers.IntegerField(help_text="0-100, for a progress bar")


class LookupBody(serializers.Serializer):
    email = serializers.EmailField(max_length=200)
    confirmation_code = serializers.CharField(max_length=40, help_text="case and dashes do not matter")


class CancelBody(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class FeedbackBody(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


_EMAIL = OpenApiParameter(EMAIL_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                          description="The order's email: with the confirmation code in the URL it proves the "
                                      "order is yours, without a session (stateless API clients).")
_CODE = OpenApiParameter("confirmation", OpenApiTypes.STR, OpenApiParameter.PATH,
                         description="The confirmation code; case, dashes and spaces do not matter.")
_ERROR = OpenApiTypes.OBJECT  # {code, message[, parameter]}


class OrdersView(APIView):
    @extend_schema(operation_id="list_orders",
                   description="The caller's orders, newest first: those placed or looked up in this session "
                               "(and, once signed in, the shopper's own).",
                   responses={200: inline_serializer("OrderList", {"orders": OrderSummary(many=True)})})
    def get(self, request: Request) -> Response:
        rows = access.my_orders(request)
        return Response({"orders": OrderSummary(rows, many=True).data})


class LookupView(APIView):
    throttle_classes = [OrderLookupThrottle]  # noqa: RUF012 (DRF reads it; never mutated)

    @extend_schema(operation_id="lookup_order", request=LookupBody,
                   description="A guest proves an order is theirs with its email and confirmation code; the "
                               "session cookie then remembers it.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 404: _ERROR})
    def post(self, request: Request) -> Response:
        body = validated_body(LookupBody, request)
        order_id = access.lookup(body["confirmation_code"], body["email"])
        if order_id is None:
            raise not_found()
        with order_errors():
            view = services.call(orders.get_order, services.store(), order_id)
        if view is None:
            raise not_found()
        access.remember(request, order_id)
        return Response(order_body(view))


class OrderDetailView(APIView):
    @extend_schema(operation_id="get_order", parameters=[_CODE, _EMAIL],
                   responses={200: OpenApiTypes.OBJECT, 404: _ERROR})
    def get(self, request: Request, confirmation: str) -> Response:
        return Response(order_body(_owned(request, confirmation)))


class CancelOrderView(APIView):
    @extend_schema(operation_id="cancel_order", request=CancelBody, parameters=[_CODE, _EMAIL],
                   description="Cancel while the order has not shipped; the payment is refunded. A partly "
                               "shipped order cancels what has not shipped (refunded, its stock released) and "
                               "answers with `cancelled` and `shipped` (supplier orders and their lines); a "
                               "shipped order answers 409 illegal_transition. Idempotent: cancelling a "
                               "cancelled order answers 200 with it, with no second effect.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, confirmation: str) -> Response:
        view = _owned(request, confirmation)
        reason = validated_body(CancelBody, request)["reason"]
        if view.status == OrderStatus.CANCELLED:
            # Idempotent for API callers: a cancel retried after its first answer was lost (a 503
            # while the update ran) gets the order it cancelled. Staff's stale second cancel in the
            # admin is still told it was cancelled already (the domain's IllegalTransition).
            return Response({**order_body(view), **cancel_outcome(view)})
        with order_errors():
            view = services.call(orders.cancel, view.order_id, access.actor(request, view), reason)
        return Response({**order_body(view), **cancel_outcome(view)})


class FeedbackView(APIView):
    @extend_schema(operation_id="leave_order_feedback", request=FeedbackBody, parameters=[_CODE, _EMAIL],
                   description="Once, after delivery, within the feedback window.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, confirmation: str) -> Response:
        view = _owned(request, confirmation)
        body = validated_body(FeedbackBody, request)
        with order_errors():
            view = services.call(orders.leave_feedback, view.order_id, access.actor(request, view),
                                 body["rating"], body["comment"])
        return Response(order_body(view))
