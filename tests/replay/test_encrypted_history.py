"""With the payload codec on, Temporal's history of a real order holds no email, address or
password hash in clear, and it replays on today's code with the codec (and not without it).

Recorded histories in histories/ are plain (written before the codec): test_replay.py replays
those with the same converter, whose codec passes plain payloads through."""

from __future__ import annotations

import pytest
from django.test import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from ..servers import shop_converter
from ..web.accounts import create_shopper
from ..web.orders_helpers import SHIPPING, eventually, place, run, until
from .test_replay import WORKFLOWS

SHOPPER_EMAIL = "grace.codec@example.com"
IN_CLEAR = [SHIPPING["email"].encode(), SHIPPING["address1"].encode(), SHIPPING["last_name"].encode(),
            SHOPPER_EMAIL.encode(), b"md5$"]  # md5$: the tests' password hasher's prefix


async def test_an_order_leaves_nothing_personal_in_clear_and_replays_with_the_codec(orders_web, order_variant):
    await run(create_shopper, orders_web, SHOPPER_EMAIL)  # identity: email and password hash
    placed = await run(place, Client(), order_variant.id)
    await until(orders_web, placed["order_id"], lambda v: v.status == "in_fulfillment")
    client = orders_web.client

    async def listed():
        return [w async for w in client.list_workflows()]

    workflows = await eventually(listed, lambda ws: {"OrderWorkflow", "CheckoutWorkflow", "ShopperWorkflow"}
                                 <= {w.workflow_type for w in ws})
    histories = {w.workflow_type: await client.get_workflow_handle(w.id, run_id=w.run_id).fetch_history()
                 for w in workflows}
    sealed = 0
    for kind, history in histories.items():
        for event in history.events:
            raw = event.SerializeToString()
            found = [text.decode() for text in IN_CLEAR if text in raw]
            assert not found, f"{kind} event {event.event_id} holds {found} in clear"
            sealed += raw.count(b"binary/encrypted")
    assert sealed > 10  # the inputs, results and messages really are sealed, not absent

    order = histories["OrderWorkflow"]
    await Replayer(workflows=WORKFLOWS, data_converter=shop_converter()).replay_workflow(order)
    with pytest.raises(RuntimeError, match="Failed decoding arguments"):  # the plain converter: sealed input
        await Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter).replay_workflow(order)
