"""What the cadence workflows share: search attributes, activity options and refusals."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from infra.activity_options import ActivityOptions

    from ..messages import (
        EnrollmentStatus,
    )

CADENCE_ID = SearchAttributeKey.for_keyword("CadenceId")
CADENCE_CONTACT = SearchAttributeKey.for_keyword("CadenceContact")
CADENCE_STEP = SearchAttributeKey.for_keyword("CadenceStep")
CADENCE_STATE = SearchAttributeKey.for_keyword("CadenceState")

STORE: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=10),
                          "schedule_to_close_timeout": timedelta(minutes=5),
                          "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=10))}
# An enrollment outlives a store outage of any length: its store writes retry until they land.
ENROLLMENT_STORE: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=10),
                                     "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}
RENDER: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=30),
                           "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}
# A mail server that is down for a while is waited for, with backoff, for up to a day.
SEND: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=60),
                         "schedule_to_close_timeout": timedelta(hours=24),
                         "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=5))}
PROPAGATE: ActivityOptions = {"start_to_close_timeout": timedelta(minutes=10),
                              "heartbeat_timeout": timedelta(seconds=30),
                              "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=30))}
# Visibility is eventually consistent: an enrollment started just before an edit may be
# missing from the first listing, so the edit is sent again after this long.
SETTLE = timedelta(seconds=5)
MAX_CHANGES_PER_RUN = 200
UNCLAIMED_FOR = timedelta(minutes=10)
TIMELINE_KEPT_ACROSS_RUNS = 50
SENT, ENDED, AGAIN = "sent", "ended", "again"  # how a SEND_EMAIL step came out


def refuse(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


def enrollment_search_attributes(cadence_id: str, contact: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([
        SearchAttributePair(CADENCE_ID, cadence_id), SearchAttributePair(CADENCE_CONTACT, contact),
        SearchAttributePair(CADENCE_STATE, EnrollmentStatus.RUNNING.value)])


# --- the definition ------------------------------------------------------------------------------
