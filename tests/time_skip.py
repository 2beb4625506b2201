"""Long waits on the time-skipping test server, taken a day at a time.

One skip of weeks is one RPC that waits for every timer and activity the jump wakes; on a busy
machine it outlasted the RPC's timeout (an h2 error or a deadline). Days are short RPCs."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

DAY = timedelta(days=1)


async def skip(env: WorkflowEnvironment, span: timedelta) -> None:
    left = span
    while left > timedelta(0):
        step = min(left, DAY)
        await env.sleep(step)
        left -= step
