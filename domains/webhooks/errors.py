"""The webhooks' error codes and `WebhookError`, the one exception of their client.
Values are wire values (ApplicationError types in recorded histories); the API's codes are
their snake_case."""

from __future__ import annotations

from enum import StrEnum

from domains.shared import DomainError


class WebhookErrorCode(StrEnum):
    ENDPOINT_NOT_FOUND = "EndpointNotFound"
    EVENT_NOT_FOUND = "EventNotFound"
    INVALID_URL = "InvalidUrl"  # not http(s), or no host
    UNKNOWN_EVENT_TYPE = "UnknownEventType"
    NO_EVENTS = "NoEvents"
    INVALID_SECRET = "InvalidSecret"
    ENDPOINT_GONE = "EndpointGone"  # activity failure: the receiver answered 410, never retried
    ADDRESS_REFUSED = "AddressRefused"  # activity failure: the URL resolves to a private address
    ENDPOINT_DISABLED = "EndpointDisabled"  # activity failure: disabled after failing for too long
    UNEXPECTED = "WebhookError"  # a failure whose type no code names


class WebhookError(DomainError[WebhookErrorCode]):
    """A refusal from the webhooks client; `code` says which."""
