"""What the identity workflows share: the save options, refusals and when to continue as new."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from infra.activity_options import ActivityOptions


SAVE: ActivityOptions = {"start_to_close_timeout": timedelta(seconds=10),
                         "schedule_to_close_timeout": timedelta(minutes=2),
                         "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=5))}
MAX_CHANGES_PER_RUN = 200  # continue-as-new well before history gets long
UNCLAIMED_FOR = timedelta(hours=1)  # a workflow started for an account that was never created ends


def refuse(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=code, non_retryable=True)


def due_to_continue(changes: int) -> bool:
    return changes >= MAX_CHANGES_PER_RUN or workflow.info().is_continue_as_new_suggested()
