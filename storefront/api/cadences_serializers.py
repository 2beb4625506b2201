"""Request bodies of the cadences API, and turning them into the domain's steps.

DRF checks the shapes (types, lengths); what makes a cadence runnable (at least one step, a
WAIT with a positive duration, a SEND_EMAIL naming a template that exists) is the domain's
`check_steps`, so the API, the admin panel and the CLI refuse the same things with the same
codes.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from domains.cadences.messages import ApplyTo, EnrollmentStatus, Trigger
from domains.cadences.steps import MAX_SUBJECT, Step, StepType, parse_duration

from ..cadence_email import subject_problem
from .errors import ApiError, invalid_parameter

MAX_CONTACTS = 500
MAX_DATA_BYTES = 8 * 1024  # it travels in every enrollment's workflow state
MAX_VERSION = 2**31 - 1


def _encodable(value: str) -> str:
    # a lone surrogate ("\ud800") is valid JSON but no UTF-8 store or email can hold it
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("contains characters that are not valid text") from None
    return value


def text(**kw) -> serializers.CharField:
    return serializers.CharField(validators=[_encodable], **kw)


class StepBody(serializers.Serializer):
    id = text(max_length=20, required=False, allow_blank=True, allow_null=True,
              help_text="An existing step's id keeps its identity across versions (enrollments already past it "
                        "never repeat it). Omit it for a new step.")
    type = serializers.ChoiceField(choices=[t.value for t in StepType])
    template = text(max_length=100, required=False, allow_null=True,
                    help_text="SEND_EMAIL: the name of an email template (templates/cadence_emails/{name}.txt).")
    subject = text(max_length=MAX_SUBJECT, required=False, allow_blank=True, allow_null=True,
                   help_text="SEND_EMAIL: the subject, a template string like `Welcome, {{ name }}`.")
    seconds = serializers.IntegerField(required=False, allow_null=True,
                                       help_text="WAIT: how long, in seconds (positive, at most a year).")
    duration = text(max_length=40, required=False, allow_null=True,
                     help_text="WAIT: how long, as text like `2d 4h`, `90m` or `45s` (instead of seconds).")


class CadenceBody(serializers.Serializer):
    name = text(max_length=120)
    trigger = serializers.ChoiceField(choices=[t.value for t in Trigger], required=False,
                                      help_text="What enrolls contacts besides staff: manual (default on create), "
                                                "cart_abandoned, order_delivered.")
    active = serializers.BooleanField(required=False, help_text="Default true on create.")
    steps = StepBody(many=True)


class SaveCadenceBody(CadenceBody):
    apply_to = serializers.ChoiceField(choices=[a.value for a in ApplyTo], required=False,
                                       default=ApplyTo.RUNNING.value,
                                       help_text="running: running enrollments take the new steps from where they "
                                                 "are; new: only enrollments started from now on use them.")
    expected_version = serializers.IntegerField(min_value=0, max_value=MAX_VERSION, required=False, allow_null=True,
                                                help_text="Refuse (409 stale_version) if the cadence is no longer "
                                                          "at this version.")


class ContactBody(serializers.Serializer):
    email = text(max_length=320)
    name = text(max_length=120, required=False, allow_blank=True, default="")


RESERVED_DATA = {"cart_id", "order_id"}


class EnrollBody(serializers.Serializer):
    contacts = ContactBody(many=True, min_length=1, max_length=MAX_CONTACTS)
    data = serializers.DictField(required=False, default=dict,
                                 help_text="Passed to every enrollment and its templates (e.g. order_code, lines); "
                                           "at most 8 KB as JSON. `cart_id` and `order_id` are refused: only the "
                                           "shop's own triggers set them, since they open signed links to a cart "
                                           "or an order.")

    def validate_data(self, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(RESERVED_DATA & set(value))
        if reserved:  # a signed restore/review link to someone else's cart or order must not be mintable
            raise serializers.ValidationError(f"{', '.join(reserved)} can only be set by the shop's triggers")
        try:
            encoded = json.dumps(value).encode("utf-8")
        except (TypeError, ValueError, UnicodeEncodeError):
            raise serializers.ValidationError("must be a JSON object of text, numbers, lists and objects") from None
        if len(encoded) > MAX_DATA_BYTES:
            raise serializers.ValidationError(f"at most {MAX_DATA_BYTES} bytes as JSON")
        return value


class EnrollmentsQuery(serializers.Serializer):
    state = serializers.ChoiceField(choices=[s.value for s in EnrollmentStatus], required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=50)


class EnrollmentActionBody(serializers.Serializer):
    reason = text(max_length=300, required=False, allow_blank=True, default="")


class UnsubscribeBody(serializers.Serializer):
    email = text(max_length=320)


def first_problem(detail: Any, path: str = "") -> tuple[str, str] | None:
    """The first error in DRF's error tree and where it is (`steps[1].seconds`). A list
    serializer keys its items' errors by index (older DRF: a list with `{}` for the items
    that were fine)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                inner = f"{path}[{key}]"
            elif key == "non_field_errors":
                inner = path
            else:
                inner = f"{path}.{key}" if path else str(key)
            found = first_problem(value, inner)
            if found:
                return found
        return None
    if isinstance(detail, list):
        for n, value in enumerate(detail):
            found = first_problem(value, f"{path}[{n}]" if isinstance(value, dict) else path)
            if found:
                return found
        return None
    return path or "body", str(detail)


def checked(serializer: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """`data` validated by `serializer`; otherwise the 400 `invalid_parameter` naming the field."""
    body = serializer(data=data)
    if not body.is_valid():
        parameter, message = first_problem(body.errors) or ("body", "invalid")
        raise invalid_parameter(parameter, message)
    return body.validated_data


def steps_of(items: list[dict[str, Any]]) -> list[Step]:
    """The domain's steps from validated step bodies: a WAIT's duration in seconds, and only
    the fields a step of its type has."""
    steps = []
    for n, item in enumerate(items):
        where = f"steps[{n}]"
        if item["type"] == StepType.WAIT:
            seconds, duration = item.get("seconds"), item.get("duration")
            if duration is not None:
                try:
                    parsed = parse_duration(duration)
                except ValueError as exc:
                    raise invalid_parameter(f"{where}.duration", str(exc)) from None
                if seconds is not None and seconds != parsed:
                    raise invalid_parameter(f"{where}.duration", "give seconds or a duration, not both")
                seconds = parsed
            steps.append(Step(id=item.get("id") or "", type=StepType.WAIT, seconds=seconds))
        else:
            subject = item.get("subject") or ""
            problem = subject_problem(subject)  # a subject that cannot render would fail every send, much later
            if problem:
                code, message = problem
                raise ApiError(code, f"{where}.subject: {message}", parameter=f"{where}.subject")
            steps.append(Step(id=item.get("id") or "", type=StepType.SEND_EMAIL, template=item.get("template"),
                              subject=subject))
    return steps
