"""Every domain error code has a web mapping, and no code's wire value changes.

The enums are found by walking domains/*/errors.py, so a new domain's codes (or a new code)
fail here until the web layer maps them, instead of reaching a user as a generic 409 or
"Something went wrong". The wire values are pinned: they are ApplicationError types in
recorded workflow histories and the basis of the API's codes."""

from __future__ import annotations

import importlib
import inspect
from enum import StrEnum
from pathlib import Path

import pytest

import domains
from domains.cart.errors import SHOP_CODES, CartErrorCode, ShopError, shop_code
from domains.orders.errors import OrderError, OrderErrorCode
from domains.shared import DomainError
from storefront.api import shop_errors
from storefront.shop import cart_pages, order_pages

WIRE_VALUES = {
    "CadenceErrorCode": {"CadenceNotFound", "CadenceInactive", "StaleVersion", "UnknownStep", "AlreadyEnrolled",
                         "Unsubscribed", "EnrollmentNotFound", "EnrollmentEnded", "InvalidContact",
                         "TemplateMissing", "NotRendered", "InvalidSteps", "UnknownTemplate", "TemplateNotAllowed",
                         "CadenceError"},
    "CartErrorCode": {"InsufficientStock", "UnknownVariant", "UnknownLine", "UnknownCoupon", "CartClosed",
                      "CartEmpty", "CheckoutInProgress", "NotFound", "Error"},
    "CheckoutErrorCode": {"InvalidStep", "CheckoutClosed", "ReservationLost", "ConfirmationTaken",
                          "PaymentFailed", "OrderFailed"},
    "FulfillmentErrorCode": {"NotFound", "Ambiguous", "StepNotAllowed", "Refused", "SupplierRejected",
                             "SupplierUnavailable", "TrackingTaken", "SupplierOrderShipped"},
    "IdentityErrorCode": {"EmailTaken", "NotRegistered", "AccountLocked", "AccountDisabled", "InvalidResetLink",
                          "InvalidVerifyLink",
                          "UnknownAddress", "TooManyAddresses", "LastOwner", "TokenRevoked", "NoScopes",
                          "IdentityError"},
    "InventoryErrorCode": {"InvalidQuantity", "UnknownSku", "NoSuchReservation", "InventoryMovedToShards",
                           "UnknownLocation", "LocationRequired", "LocationInactive", "LocationInUse",
                           "InsufficientStockAtLocation", "InventoryError"},
    "OrderErrorCode": {"IllegalTransition", "InvalidRefund", "FeedbackNotAllowed", "OrderClosed", "PartlyShipped",
                       "OrderNotFound", "OrderError", "EditNotAllowed", "InvalidEdit", "EditOutOfStock", "NoSuchEdit",
                       "SupplierOrderShipped", "PaymentRequired", "EditPaymentFailed"},
    "WebhookErrorCode": {"EndpointNotFound", "EventNotFound", "InvalidUrl", "UnknownEventType", "NoEvents",
                         "InvalidSecret", "EndpointGone", "AddressRefused", "EndpointDisabled",
                         "WebhookError"},
    "PaymentErrorCode": {"PaymentDeclined", "InsufficientFunds", "InvalidToken", "GatewayUnavailable",
                         "RefundExceedsCharge", "InvalidRefund", "UnknownCharge", "UnknownPayment",
                         "InvalidAmount", "CaptureExceedsAuthorization", "AlreadyCaptured", "PaymentVoided",
                         "RefundExceedsCapture", "AuthorizationExpired", "PaymentRequiresAction", "ProviderRejected"},
    "ReturnErrorCode": {"line_not_delivered", "quantity_not_returnable", "return_window_closed", "unknown_line",
                        "illegal_transition", "refund_needs_manager", "no_such_return", "invalid_return",
                        "tracking_taken", "variant_not_exchangeable", "payment_required", "payment_failed",
                        "return_error"},
    "StripeWebhookErrorCode": {"WebhookNotConfigured", "WebhookBadSignature", "WebhookBadPayload",
                               "WebhookUnknownEvent"},
}


def domain_error_enums() -> list[type[StrEnum]]:
    """Every StrEnum defined in a domains/<domain>/errors.py."""
    found = []
    for path in sorted(Path(domains.__file__).parent.glob("*/errors.py")):
        module = importlib.import_module(f"domains.{path.parent.name}.errors")
        found += [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                  if issubclass(obj, StrEnum) and obj.__module__ == module.__name__]
    return found


ENUMS = domain_error_enums()


def test_the_walk_finds_every_domain_enum():
    assert {enum.__name__ for enum in ENUMS} >= set(WIRE_VALUES)


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_code_has_an_http_status_and_api_code(enum):
    table = shop_errors.TABLES.get(enum)
    assert table is not None, f"storefront/api/shop_errors.py has no table for {enum.__name__}"
    unmapped = [code.name for code in enum if code not in table]
    assert not unmapped, f"{enum.__name__} codes without a web mapping: {unmapped}"
    for code in enum:
        http, api_code = shop_errors.http_of(code)
        assert 400 <= http < 600 and api_code and api_code == api_code.lower()


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_wire_values_do_not_change(enum):
    assert len(enum.__members__) == len(list(enum)), "two members share a value (one became an alias)"
    assert {code.value for code in enum} == WIRE_VALUES[enum.__name__]


def test_every_code_a_cart_page_can_get_has_a_message():
    for enum in SHOP_CODES:
        assert not [code.name for code in enum if code not in cart_pages.SHOP_MESSAGES], enum.__name__
    values = [code.value for enum in SHOP_CODES for code in enum]
    assert len(values) == len(set(values)), "the ?error= wire value must name one code"


def test_every_order_code_has_a_page_message():
    assert not [code.name for code in OrderErrorCode if code not in order_pages.ORDER_MESSAGES]


def test_every_return_code_has_a_page_message():
    from domains.returns.errors import ReturnErrorCode
    from storefront.shop import return_pages

    assert not [code.name for code in ReturnErrorCode if code not in return_pages.RETURN_MESSAGES]


def test_tables_tell_domains_apart_where_wire_values_meet():
    from domains.fulfillment.errors import FulfillmentErrorCode
    from domains.payments.errors import PaymentErrorCode

    assert shop_errors.http_of(CartErrorCode.NOT_FOUND) == (404, "not_found")
    assert shop_errors.http_of(FulfillmentErrorCode.NOT_FOUND) == (404, "notfound")
    assert shop_errors.http_of(OrderErrorCode.INVALID_REFUND) == shop_errors.http_of(PaymentErrorCode.INVALID_REFUND)


def test_api_error_keeps_the_api_codes():
    error = shop_errors.api_error(ShopError(CartErrorCode.UNKNOWN_LINE, "no line", {"line": "x"}))
    assert (error.status_code, error.error_code, error.extra) == (404, "line_not_found", {"details": {"line": "x"}})
    error = shop_errors.api_error(OrderError(OrderErrorCode.ORDER_CLOSED, "closed"))
    assert (error.status_code, error.error_code) == (409, "order_closed")


def test_a_type_no_enum_knows_becomes_the_unexpected_code():
    assert shop_code("PaymentDeclined") == "PaymentDeclined" and type(shop_code("PaymentDeclined")) is not str
    assert shop_code("ValueError") is CartErrorCode.UNEXPECTED
    assert shop_code(None) is CartErrorCode.UNEXPECTED


def test_client_exceptions_share_one_base_and_keep_their_names():
    # an activity that lets one escape fails with its class name as the ApplicationError type
    from domains.cadences.errors import CadenceError
    from domains.fulfillment.errors import FulfillmentError
    from domains.identity.errors import IdentityError
    from domains.inventory.errors import InventoryError

    classes = (ShopError, OrderError, CadenceError, FulfillmentError, IdentityError, InventoryError)
    assert all(issubclass(cls, DomainError) for cls in classes)
    assert [cls.__name__ for cls in classes] == ["ShopError", "OrderError", "CadenceError", "FulfillmentError",
                                                  "IdentityError", "InventoryError"]
