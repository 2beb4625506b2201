"""`manage.py webhooks` against a real dev server and a real receiver: register (the secret
shown once, JSON output), list, refusals with their exit codes, ping, show with the delivery
log and success rate, redeliver with the same webhook-id, disable, dry runs."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from django.core.management import CommandError, call_command

from ..web.accounts import create_staff
from ..web_fixtures import django_pointed_at
from .test_delivery import until

STAFF: dict[str, str] = {}  # role -> this test's staff user


@pytest.fixture
async def cli(webhook_shop, tmp_path):
    """The command pointed at this test's store and Temporal namespace."""
    with django_pointed_at(webhook_shop, tmp_path):
        for role in ("manager", "support"):
            STAFF[role] = (await asyncio.to_thread(create_staff, None, role)).email
        yield webhook_shop


async def run(*args: str, staff: str = "manager") -> str:
    out = io.StringIO()
    await asyncio.to_thread(call_command, "webhooks", *args, "--staff", STAFF.get(staff, staff), stdout=out)
    return out.getvalue()


async def refused(*args: str, **kw) -> CommandError:
    with pytest.raises(CommandError) as error:
        await run(*args, **kw)
    return error.value


async def test_register_ping_show_redeliver_and_disable_from_the_terminal(cli, receiver):
    assert (await refused("add", receiver.url, "--events", "order.placed", staff="support")).returncode == 4
    assert (await refused("list", staff="nobody@example.com")).returncode == 4
    bad = await refused("add", receiver.url, "--events", "order.placed,order.exploded")
    assert bad.returncode == 2 and "order.exploded" in str(bad)
    assert (await refused("add", "ftp://example.com/x", "--events", "order.placed")).returncode == 2
    assert (await refused("show", "we_missing")).returncode == 3
    assert (await refused("redeliver", "evt_missing")).returncode == 3

    dry = json.loads(await run("add", receiver.url, "--events", "order.placed", "--dry-run", "--json"))
    assert dry["dry_run"] and json.loads(await run("list", "--json")) == []

    made = json.loads(await run("add", receiver.url, "--events", "order.placed,fulfillment.shipped", "--json"))
    assert made["id"].startswith("we_") and made["secret"].startswith("whsec_")
    receiver.secret = made["secret"]
    [listed] = json.loads(await run("list", "--json"))
    assert listed["endpoint_id"] == made["id"] and listed["active"] and "secret" not in listed
    assert made["id"] in await run("list")

    pinged = json.loads(await run("ping", made["id"], "--json"))
    await until(lambda: len(receiver.accepted) == 1, what="the ping")
    assert receiver.accepted[0].webhook_id == pinged["event_id"]
    assert receiver.accepted[0].body["type"] == "webhook.ping"

    shown = json.loads(await run("show", made["id"], "--json"))
    assert shown["attempts"][0]["http_status"] == 200
    assert shown["summary"] == {"attempts": 1, "succeeded": 1, "success_rate": 1.0}
    assert shown["deliveries"][0]["status"] == "delivered"
    assert "webhook.ping" in await run("show", made["id"])

    assert "dry run" in await run("redeliver", pinged["event_id"], "--endpoint", made["id"], "--dry-run")
    again = json.loads(await run("redeliver", pinged["event_id"], "--endpoint", made["id"], "--json"))
    assert again["endpoints"] == [made["id"]]
    await until(lambda: len(receiver.accepted) == 2, what="the redelivery")
    assert receiver.accepted[1].webhook_id == pinged["event_id"]

    rotated = json.loads(await run("rotate", made["id"], "--json"))
    assert rotated["id"] == made["id"] and rotated["secret"] not in (made["secret"], "")
    receiver.secret = rotated["secret"]  # the old secret signs too for a day: either verifies
    await run("ping", made["id"])
    await until(lambda: len(receiver.accepted) == 3, what="a ping signed with the new secret")
    assert receiver.bad_signatures == 0

    disabled = json.loads(await run("disable", made["id"], "--json"))
    assert disabled["active"] is False
    await run("ping", made["id"])
    await asyncio.sleep(1.5)
    assert receiver.requests == 3  # a disabled endpoint gets nothing
