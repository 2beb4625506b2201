"""`manage.py returns` on the time-skipping server: list and show, approve and receive with
the role checks of the fulfillment CLI, dry runs that send nothing, per-line receipts, a
support receipt above the limit refunded by a manager, and the exit codes."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from domains.returns.messages import ReturnStatus
from storefront import services

from ..web.accounts import create_staff
from ..web_fixtures import django_pointed_at

STAFF: dict[str, str] = {}  # role -> this test's staff user


@pytest.fixture
async def cli(returns_shop, tmp_path):
    # `returns list` reads the order index the shop's return workers write
    with django_pointed_at(returns_shop, tmp_path), \
            mock.patch.object(services, "order_index", lambda: returns_shop.shop.order_index):
        for role in ("fulfillment", "support", "manager"):
            STAFF[role] = (await asyncio.to_thread(create_staff, None, role)).email
        yield returns_shop


async def run(*args: str, staff: str = "support") -> str:
    out = io.StringIO()
    await asyncio.to_thread(call_command, "returns", *args, "--staff", STAFF.get(staff, staff), stdout=out)
    return out.getvalue()


async def refused(*args: str, **kw) -> CommandError:
    with pytest.raises(CommandError) as error:
        await run(*args, **kw)
    return error.value


async def test_staff_list_approve_and_receive_returns_from_a_terminal(cli):
    shop = cli
    shop.settings(support_refund_limit=100)
    a, b = shop.variants_of_brands(2)
    order = await shop.delivered([(a, 2), (b, 1)])
    opened = await shop.open(order, ("L1", 2, "too_small"), ("L2", 1, "damaged"))
    rid = opened.return_id
    for _ in range(100):  # the return's first save writes the list's row and its document
        shop.shop.order_index.refresh()
        rows = json.loads(await run("list", "--json", "--status", "requested"))
        if rows:
            break
        await shop.env.sleep(timedelta(seconds=1))
    assert [r["return_id"] for r in rows] == [rid]
    assert rid in await run("list") and "damaged,too_small" in await run("list")
    assert "L1: 2 ×" in await run("show", rid)

    assert (await refused("approve", rid, staff="fulfillment")).returncode == 4  # no returns:write
    assert (await refused("receive", rid)).returncode == 2  # not approved yet: refused before sending
    assert (await refused("show", f"{order.confirmation_code}-R9")).returncode == 3
    dry = await run("approve", rid, "--dry-run")
    assert "nothing sent" in dry and (await shop.ret(rid)).status == ReturnStatus.REQUESTED
    approved = json.loads(await run("approve", rid, "--json"))
    assert approved["return"]["status"] == "label_issued" and approved["return"]["label_tracking_number"]

    bad = await refused("receive", rid, "--line", "L1=restock:1,broken:1")
    assert bad.returncode == 2 and "broken:1" in str(bad)
    waiting = await run("receive", rid, "--line", "L1=restock:1,damaged:0,missing:1", "--restock", "none")
    assert "a manager or owner refunds it" in waiting
    view = await shop.ret(rid)
    assert view.status == ReturnStatus.RECEIVED and view.needs_manager
    lines = {li.line_id: (li.restocked, li.damaged, li.missing) for li in view.lines}
    assert lines == {"L1": (1, 0, 1), "L2": (0, 1, 0)}  # --restock none: the other line arrived damaged

    assert (await refused("refund", rid)).returncode == 4  # support has no orders:refund
    done = await run("refund", rid, staff="manager")
    assert "received -> closed" in done and "refunded" in done
    assert (await shop.ret(rid)).status == ReturnStatus.CLOSED
