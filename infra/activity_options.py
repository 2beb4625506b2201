"""The activity options a workflow keeps in one shared dict and passes with `**`.

Typed so that mypy checks every `workflow.execute_activity_method(..., **OPTIONS)` against the
SDK's keyword arguments (a plain dict literal would be `dict[str, object]` and match no overload).
At run time these are ordinary dicts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy


class LocalActivityOptions(TypedDict, total=False):
    """Options both `execute_activity_method` and `execute_local_activity_method` take."""

    start_to_close_timeout: timedelta
    schedule_to_close_timeout: timedelta
    retry_policy: RetryPolicy


class ActivityOptions(LocalActivityOptions, total=False):
    """Options only a (non-local) activity takes."""

    heartbeat_timeout: timedelta
