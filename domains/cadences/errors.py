"""The cadences' error codes and `CadenceError`, the one exception of their client.
Values are wire values: ApplicationError types in recorded histories; the API's codes are
their snake_case."""

from __future__ import annotations

from enum import StrEnum

from domains.shared import DomainError


class CadenceErrorCode(StrEnum):
    CADENCE_NOT_FOUND = "CadenceNotFound"
    CADENCE_INACTIVE = "CadenceInactive"
    STALE_VERSION = "StaleVersion"
    UNKNOWN_STEP = "UnknownStep"
    ALREADY_ENROLLED = "AlreadyEnrolled"
    UNSUBSCRIBED = "Unsubscribed"
    ENROLLMENT_NOT_FOUND = "EnrollmentNotFound"
    ENROLLMENT_ENDED = "EnrollmentEnded"
    INVALID_CONTACT = "InvalidContact"
    TEMPLATE_MISSING = "TemplateMissing"  # activity failure: the email channel has no such template
    NOT_RENDERED = "NotRendered"  # activity failure: the channel rendered nothing
    INVALID_STEPS = "InvalidSteps"
    UNKNOWN_TEMPLATE = "UnknownTemplate"
    TEMPLATE_NOT_ALLOWED = "TemplateNotAllowed"
    UNEXPECTED = "CadenceError"  # a failure whose type no code names


class CadenceError(DomainError[CadenceErrorCode]):
    """A refusal from the cadences client; `code` says which."""
