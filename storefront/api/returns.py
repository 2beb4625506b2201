"""The shopper's return API: open a return on an order, read it, enter the parcel's tracking number.

Who may is decided as for the order API (`storefront.order_access`, `storefront.return_access`):
the session's or signed-in shopper's orders, or `X-Order-Email` with the code for stateless
clients. Anything else is a 404, the same as an id that does not exist. Opening a return takes
an `Idempotency-Key` like the cart's calls: a retry gets the first answer, never a second return.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import ValidationError as PydanticError
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.orders import client as orders
from domains.returns import client as returns
from domains.returns.errors import ReturnError
from domains.returns.messages import MarkInTransit, OpenReturn, ReturnLineRequest, ReturnReason

from .. import order_access as access
from .. import return_access, services
from ..accounts.tokens import OrderLookupThrottle
from ..unavailable import UNAVAILABLE as TEMPORAL_DOWN
from .errors import ApiError, validated_body
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import idempotent
from .orders import _CODE, _EMAIL, _ERROR, EMAIL_HEADER, _owned, order_errors
from .shop_errors import api_error

MAX_LINES = 50
MAX_NOTE = 2000
MAX_ID = 100
MAX_PAYMENT_METHOD = 200


def return_not_found() -> ApiError:
    return ApiError("return_not_found", "there is no return with that id", status.HTTP_404_NOT_FOUND)


@contextmanager
def return_errors() -> Iterator[None]:
    """Not the caller's return -> 404; the domain's refusals -> their codes; bad input -> 400;
    Temporal unreachable -> 503."""
    try:
        yield
    except access.NotFound:
        raise return_not_found() from None
    except ReturnError as exc:
        raise api_error(exc) from None
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "request"
        raise ApiError("invalid_parameter", f"{field}: {first['msg']}", parameter=field) from None
    except (*TEMPORAL_DOWN, RuntimeError) as exc:
        raise ApiError("service_unavailable", f"the shop cannot reach its workflows right now ({exc})",
                       status.HTTP_503_SERVICE_UNAVAILABLE) from None


class ReturnLineBody(serializers.Serializer):
    line_id = serializers.CharField(max_length=40, help_text="`line_id` of a line of GET /api/orders/{code}")
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)
    reason = serializers.ChoiceField(choices=[r.value for r in ReturnReason])
    exchange_variant_id = serializers.CharField(max_length=MAX_ID, required=False, allow_null=True, default=None,
                                                help_text="another variant of the same product, for an exchange")


PAYMENT_METHOD_HELP = ("how an exchange that costs more is paid: a payment method (the simulated gateway's "
                       "`tok_success`, a Stripe `pm_...`); charged the difference when the return is approved")


class OpenReturnBody(serializers.Serializer):
    lines = serializers.ListField(child=ReturnLineBody(), min_length=1, max_length=MAX_LINES)
    note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True, default="")
    payment_method = serializers.CharField(max_length=MAX_PAYMENT_METHOD, required=False, allow_null=True,
                                           allow_blank=True, default=None, help_text=PAYMENT_METHOD_HELP)


def payment_method(body: dict) -> str | None:
    return (body.get("payment_method") or "").strip() or None


class TrackingBody(serializers.Serializer):
    tracking_number = serializers.RegexField(r"^[A-Za-z0-9 -]{4,60}$", max_length=60,
                                             help_text="the parcel's tracking number: 4-60 letters, digits, "
                                                       "spaces or dashes")
    carrier = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


_IDEMPOTENCY = OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                                description="Retry with the same key to get the first answer, never a second return.")
_RETURN = OpenApiParameter("return_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                           description="The return's id: the order's confirmation code, `-R` and its number.")


def line_requests(lines: list[dict]) -> list[ReturnLineRequest]:
    return [ReturnLineRequest(line_id=li["line_id"], quantity=li["quantity"], reason=ReturnReason(li["reason"]),
                              exchange_variant_id=li.get("exchange_variant_id") or None) for li in lines]


class OpenReturnView(APIView):
    @extend_schema(
        operation_id="open_return", request=OpenReturnBody, parameters=[_CODE, _EMAIL, _IDEMPOTENCY],
        description="Return delivered lines of your order within the shop's return window (an exchange names "
                    "another variant of the same product). 409 `line_not_delivered`, `quantity_not_returnable` "
                    "(more than was delivered and not already returned) or `return_window_closed`. A swap for a "
                    "dearer variant needs `payment_method` (402 `payment_required` without one); the difference "
                    "is charged when the return is approved (402 `payment_failed` if the card is refused).",
        responses={201: OpenApiTypes.OBJECT, 400: _ERROR, 402: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, confirmation: str) -> Response:
        order = _owned(request, confirmation)
        body = validated_body(OpenReturnBody, request)

        def run() -> Response:
            with order_errors(), return_errors():
                message = OpenReturn(actor=access.actor(request, order), lines=line_requests(body["lines"]),
                                     note=body["note"].strip(), payment_method=payment_method(body))
                view = services.call(orders.open_return, order.order_id, message)
            return Response(return_access.shopper_body(order, view), status=status.HTTP_201_CREATED)

        return idempotent(request, f"returns:{order.order_id}", run)


def _owned_return(request: Request, return_id: str):
    email = request.headers.get(EMAIL_HEADER)
    if email is not None:
        _owned_throttle(request)
    with return_errors():
        return return_access.owned_return(request, return_id, email)


def _owned_throttle(request: Request) -> None:
    """An email + return id pair is a guess like a lookup's: the same shared limit."""
    throttle = OrderLookupThrottle()
    if not throttle.allow_request(request, None):
        raise Throttled(throttle.wait())


class ReturnDetailView(APIView):
    @extend_schema(operation_id="get_return", parameters=[_RETURN, _EMAIL],
                   description="A return of one of your orders: its status, lines, dates (`ship_by`), the label's "
                               "tracking number and the refund; for an exchange, `exchange_difference` and "
                               "`replacement` (its supplier order's status and shipment).",
                   responses={200: OpenApiTypes.OBJECT, 404: _ERROR})
    def get(self, request: Request, return_id: str) -> Response:
        order, view = _owned_return(request, return_id)
        return Response(return_access.shopper_body(order, view))


class ReturnTrackingView(APIView):
    @extend_schema(operation_id="enter_return_tracking", request=TrackingBody,
                   parameters=[_RETURN, _EMAIL, _IDEMPOTENCY],
                   description="The tracking number of the parcel you sent back: the return is in transit.",
                   responses={200: OpenApiTypes.OBJECT, 400: _ERROR, 404: _ERROR, 409: _ERROR})
    def post(self, request: Request, return_id: str) -> Response:
        order, view = _owned_return(request, return_id)
        body = validated_body(TrackingBody, request)

        def run() -> Response:
            with return_errors():
                message = MarkInTransit(actor=access.actor(request, order), tracking_number=body["tracking_number"],
                                        carrier=body["carrier"])
                after = services.call(returns.mark_in_transit, view.return_id, message, services.store())
            return Response(return_access.shopper_body(order, after))

        return idempotent(request, f"returns:{view.return_id}", run)
