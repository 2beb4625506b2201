"""The JSON cart and checkout API. The cart id travels in an httpOnly cookie and, for API
clients, in the `X-Cart-Id` header; every call goes to Temporal (updates return the cart,
reads are queries)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import ValidationError as PydanticError
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.cart import client as carts
from domains.cart.client import ShopError
from domains.cart.errors import CartErrorCode, shop_code
from domains.cart.messages import MAX_QUANTITY, CarriedTerms, CartRequester
from domains.cart.reads import shop_terms, stock_seen, variant_info
from domains.checkout import rates
from domains.identity.shop_settings import read_shop_settings
from domains.shared import Address

from .. import order_access, services
from ..accounts import cart_owner, shopper_cart
from ..cart_cookie import COOKIE, HEADER, set_cart_cookie, valid
from ..unavailable import UNAVAILABLE as TEMPORAL_DOWN
from .errors import ApiError, validated_body
from .idempotency import idempotent
from .shop_errors import api_error


def _named_cart_id(request: Request) -> str | None:
    """The cart id the caller names (header or cookie), checked for its form only."""
    value = (request.headers.get(HEADER) or request.COOKIES.get(COOKIE) or "").strip().lower()
    if not value:
        return None
    if not valid(value):
        raise ApiError("invalid_parameter", f"{HEADER}: not a cart id", parameter=HEADER)
    return value


def cart_id_of(request: Request) -> str | None:
    """The caller's cart id. Every cart and checkout call of the API starts here (but the add,
    whose update the cart checks itself), so this is where a cart another shopper owns answers
    404 like an unknown one (see cart_owner)."""
    value = _named_cart_id(request)
    if value is None:
        return None
    try:
        usable = cart_owner.may_use(request, value)
    except (*TEMPORAL_DOWN, RuntimeError) as exc:
        raise _unavailable(exc) from None
    if not usable:
        raise api_error(cart_owner.not_found())
    return value


def call(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run a domain client call on the process's Temporal loop; domain refusals become API errors."""
    try:
        return services.call(fn, *args)
    except ShopError as exc:
        raise api_error(exc) from None
    except (*TEMPORAL_DOWN, RuntimeError) as exc:
        raise _unavailable(exc) from None


def _unavailable(exc: Exception) -> ApiError:
    return ApiError("service_unavailable", f"the shop cannot reach its workflows right now ({exc})",
                    status.HTTP_503_SERVICE_UNAVAILABLE)


def add_item(request: Request, cart_id: str, variant_id: str, quantity: int, *, new: bool) -> tuple[str, Any]:
    """(the cart id used, the cart) after an add carrying what the cart would otherwise read
    itself: the variant and the shop's terms, read from the store here on the server side just
    now (the body names only the variant; a client never sends a price, and the next add sees a
    changed price or a deleted variant), and who asks (a cart another shopper owns refuses the
    add as an unknown cart, so no query asks the cart first). An ended cart (its order placed,
    or abandoned) takes no more lines: the add starts a new cart. An unknown variant is refused
    before Temporal is asked. A `new` cart (an id never used) is started by carts.start_with_item,
    which holds the stock before starting the cart and carries the hold in."""
    store = services.store()
    variant = variant_info(store, variant_id)
    if variant is None:
        raise api_error(ShopError(CartErrorCode.UNKNOWN_VARIANT, f"no variant {variant_id!r}"))
    shopper = getattr(request, "shopper", None)
    shop = CarriedTerms(terms=shop_terms(store))
    requester = CartRequester(shopper_id=shopper.shopper_id if shopper else None)
    seen = stock_seen(store, variant.blank_sku)  # ample: the cart answers before its hold
    start = functools.partial(carts.start_with_item, shop=shop, requester=requester, stock_seen=seen)
    if new:
        return cart_id, call(start, cart_id, variant, quantity)
    add = functools.partial(carts.add_item, variant=variant, shop=shop, requester=requester, stock_seen=seen)
    try:
        cart = services.call(add, cart_id, variant_id, quantity)
        if not cart_owner.answers_to(request, cart):
            # a worker of the previous release ignores `requester`: never show another's cart
            raise api_error(cart_owner.not_found())
        return cart_id, cart
    except ShopError as exc:
        if exc.code != CartErrorCode.CART_CLOSED:
            raise api_error(exc) from None
    except (*TEMPORAL_DOWN, RuntimeError) as exc:
        raise _unavailable(exc) from None
    new_cart = uuid.uuid4().hex
    return new_cart, call(start, new_cart, variant, quantity)


def with_cart_id(response: Response, cart_id: str) -> Response:
    response[HEADER] = cart_id
    return set_cart_cookie(response, cart_id)


def cart_json(request: Request, cart: Any) -> dict:
    """A cart as the API answers it, taxed as the checkout will tax it: the shop's rate for the
    shopper's saved or last address (`rates.tax_for`, the page's function); `tax_estimate` is
    null, and `total` is before tax, when no address is known yet (calculated at checkout)."""
    body: dict = cart.model_dump(mode="json")
    goods = cart.subtotal - cart.discount
    tax = rates.tax_for(read_shop_settings(services.store()), shopper_cart.tax_address(request), goods)
    body["tax_estimate"], body["total"] = tax, goods + (tax or 0)
    return body


def empty_cart() -> dict:
    return {"id": None, "version": 0, "status": "active", "currency": "USD", "lines": [], "item_count": 0,
            "subtotal": 0, "discount": 0, "tax_estimate": 0, "total": 0, "coupon": None}


def _require_cart(request: Request) -> str:
    cart_id = cart_id_of(request)
    if cart_id is None:
        raise ApiError("not_found", "there is no cart yet: add an item first", status.HTTP_404_NOT_FOUND)
    return cart_id


class AddItemBody(serializers.Serializer):
    variant_id = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


class QuantityBody(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)


class CouponBody(serializers.Serializer):
    code = serializers.CharField(max_length=40)


class PaymentBody(serializers.Serializer):
    token = serializers.CharField(max_length=100)


class ShippingBody(serializers.Serializer):
    email = serializers.EmailField(max_length=200)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    address1 = serializers.CharField(max_length=200)
    address2 = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(min_length=2, max_length=50)
    postal_code = serializers.CharField(min_length=3, max_length=20)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166 two-letter code")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)


_CART_HEADER = OpenApiParameter(HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                                description="The cart id (API clients); browsers use the cart_id cookie.")
_IDEMPOTENCY = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                                description="Makes a retried mutating call safe: the first response is replayed.")


class CartView(APIView):
    @extend_schema(operation_id="get_cart", parameters=[_CART_HEADER], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        cart_id = cart_id_of(request)
        if cart_id is None:
            return Response(empty_cart())
        # the cart the ownership check just queried: one query per GET (an unknown id asks again,
        # and that call answers 404)
        cart = cart_owner.looked_up(request, cart_id) or call(carts.get_cart, cart_id)
        return Response(cart_json(request, cart))


class CartItemsView(APIView):
    @extend_schema(operation_id="add_cart_item", request=AddItemBody, parameters=[_CART_HEADER, _IDEMPOTENCY],
                   responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        body = validated_body(AddItemBody, request)
        # No query for the cart's owner or status first: the add names the requester and the
        # cart refuses another shopper's add as unknown; an ended cart gives way to a new one.
        cart_id = _named_cart_id(request)
        created = cart_id is None
        cart_id = cart_id or uuid.uuid4().hex

        def run() -> Response:
            used, cart = add_item(request, cart_id, body["variant_id"], body["quantity"], new=created)
            cart = shopper_cart.claim_new_cart(request, cart)  # a signed-in shopper's new cart is theirs
            return Response(cart_json(request, cart), status=201 if created or used != cart_id else 200)

        response = idempotent(request, cart_id, run)
        return with_cart_id(response, (response.data or {}).get("id") or cart_id)


class CartItemView(APIView):
    @extend_schema(operation_id="change_cart_item", request=QuantityBody, parameters=[_CART_HEADER, _IDEMPOTENCY],
                   responses={200: OpenApiTypes.OBJECT})
    def patch(self, request: Request, line_id: str) -> Response:
        cart_id = _require_cart(request)
        body = validated_body(QuantityBody, request)
        return idempotent(request, cart_id, lambda: Response(
            cart_json(request, call(carts.change_quantity, cart_id, line_id, body["quantity"]))))

    @extend_schema(operation_id="remove_cart_item", parameters=[_CART_HEADER, _IDEMPOTENCY],
                   responses={200: OpenApiTypes.OBJECT})
    def delete(self, request: Request, line_id: str) -> Response:
        cart_id = _require_cart(request)
        return idempotent(request, cart_id, lambda: Response(
            cart_json(request, call(carts.remove_line, cart_id, line_id))))


class CouponView(APIView):
    @extend_schema(operation_id="apply_coupon", request=CouponBody, parameters=[_CART_HEADER, _IDEMPOTENCY],
                   responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        cart_id = _require_cart(request)
        body = validated_body(CouponBody, request)
        return idempotent(request, cart_id, lambda: Response(
            cart_json(request, call(carts.apply_coupon, cart_id, body["code"]))))

    @extend_schema(operation_id="remove_coupon", parameters=[_CART_HEADER], responses={200: OpenApiTypes.OBJECT})
    def delete(self, request: Request) -> Response:
        cart_id = _require_cart(request)
        return Response(cart_json(request, call(carts.remove_coupon, cart_id)))


class CheckoutView(APIView):
    @extend_schema(operation_id="begin_checkout", parameters=[_CART_HEADER, _IDEMPOTENCY], request=None,
                   responses={201: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        cart_id = _require_cart(request)

        def run() -> Response:
            call(carts.begin_checkout, cart_id)
            return Response(call(carts.get_checkout, cart_id).model_dump(mode="json"), status=201)

        return idempotent(request, cart_id, run)

    @extend_schema(operation_id="get_checkout", parameters=[_CART_HEADER], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(call(carts.get_checkout, _require_cart(request)).model_dump(mode="json"))

    @extend_schema(operation_id="cancel_checkout", parameters=[_CART_HEADER], responses={200: OpenApiTypes.OBJECT})
    def delete(self, request: Request) -> Response:
        return Response(call(carts.cancel_checkout, _require_cart(request)).model_dump(mode="json"))


class ShippingView(APIView):
    @extend_schema(operation_id="set_shipping", request=ShippingBody, parameters=[_CART_HEADER],
                   responses={200: OpenApiTypes.OBJECT})
    def put(self, request: Request) -> Response:
        cart_id = _require_cart(request)
        body = validated_body(ShippingBody, request)
        try:
            address = Address(**{k: v for k, v in body.items() if v not in ("", None)})
        except PydanticError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "address"
            raise ApiError("invalid_parameter", f"{field}: {first['msg']}", parameter=field) from None
        view = call(carts.set_shipping, cart_id, address)
        shopper_cart.remember_shipping(request, address)  # a browser's cart page estimates tax for it
        return Response(view.model_dump(mode="json"))


class PaymentView(APIView):
    @extend_schema(operation_id="set_payment", request=PaymentBody, parameters=[_CART_HEADER],
                   responses={200: OpenApiTypes.OBJECT})
    def put(self, request: Request) -> Response:
        cart_id = _require_cart(request)
        token = validated_body(PaymentBody, request)["token"]
        return Response(call(carts.set_payment, cart_id, token).model_dump(mode="json"))


class SubmitView(APIView):
    @extend_schema(operation_id="submit_checkout", parameters=[_CART_HEADER, _IDEMPOTENCY], request=None,
                   responses={200: OpenApiTypes.OBJECT, 402: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        cart_id = _require_cart(request)

        def run() -> Response:
            view = call(carts.submit, cart_id)
            if view.error is not None:  # back at payment: say why, with the checkout to show
                raise api_error(ShopError(shop_code(view.error.code), view.error.message,
                                          {"checkout": view.model_dump(mode="json")}))
            return Response(view.model_dump(mode="json"))

        response = idempotent(request, cart_id, run)
        order_id = response.data.get("order_id") if response.status_code == 200 else None
        if order_id:  # a replay too: the first response (and its cookie) may never have arrived
            order_access.remember(request, order_id)
        return response
