"""The Operations page's first screen in one read: every queue's health and a page of the
most recent workflows, asked concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime

from temporalio.client import Client

from .queues import QueueHealth, queues_health
from .workflows import WorkflowFilter, WorkflowPage, recent_workflows


async def overview(client: Client, queues: Iterable[str], filters: WorkflowFilter, *, limit: int,
                   page_token: bytes | None, now: datetime) -> tuple[list[QueueHealth], WorkflowPage]:
    health, page = await asyncio.gather(queues_health(client, queues, now=now),
                                        recent_workflows(client, filters, limit=limit, page_token=page_token))
    return health, page
