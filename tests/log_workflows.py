"""A workflow and an activity that log, for the JSON log tests (tests/test_json_logs.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio import activity, workflow

plain = logging.getLogger("commerce.tests.plain")


@activity.defn
def pack(parcel: str) -> str:
    activity.logger.info("packing %s", parcel)
    plain.info("a module logger inside the activity")  # how the domains' activities log
    return parcel.upper()


@workflow.defn
class Packing:
    @workflow.run
    async def run(self, parcel: str) -> str:
        workflow.logger.info("asked to pack %s", parcel)
        return await workflow.execute_activity(pack, parcel, start_to_close_timeout=timedelta(seconds=30))
