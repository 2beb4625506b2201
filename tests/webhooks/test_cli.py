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


async def test_changes_are_audited_and_an_endpoint_is_deleted_from_the_terminal(cli):
    made = json.loads(await run("add", "https://hooks.example.com/x", "--events", "order.placed", "--json"))
    await run("disable", made["id"])
    await run("enable", made["id"], "--dry-run")  # a dry run changes nothing, so records nothing
    await run("rotate", made["id"])
    manager = f"staff:{STAFF['manager']}"
    shown = json.loads(await run("show", made["id"], "--json"))
    assert [(c["action"], c["actor"]) for c in shown["audit"]] == [
        ("rotated", manager), ("disabled", manager), ("registered", manager)]
    assert f"disabled   by {manager}" in await run("show", made["id"])

    assert (await refused("delete", made["id"], staff="support")).returncode == 4
    assert json.loads(await run("delete", made["id"], "--dry-run", "--json"))["dry_run"] is True
    assert json.loads(await run("list", "--json")) != []
    assert "deleted" in await run("delete", made["id"])
    assert json.loads(await run("list", "--json")) == []
    assert (await refused("delete", made["id"])).returncode == 3
    assert [c["action"] for c in webhook_audit(cli, made["id"])] == ["deleted", "rotated", "disabled", "registered"]


def webhook_audit(shop, endpoint_id: str) -> list[dict]:
    from domains.webhooks import client as webhooks

    return webhooks.audit_log(shop.store, endpoint_id)


async def test_prune_from_the_terminal_with_dry_run_and_json(cli):
    from datetime import UTC, datetime, timedelta

    from infra.store import schema

    old = datetime.now(UTC) - timedelta(days=45)
    cli.store.put(schema.WEBHOOK_EVENTS.name, {"event_id": "evt_old", "type": "stock.low", "ordering_key": "s",
                                               "created_at": old, "body": "{}"})
    assert (await refused("prune", "--older-than", "0")).returncode == 2
    assert (await refused("prune", staff="support")).returncode == 4
    dry = json.loads(await run("prune", "--dry-run", "--json"))
    assert dry["dry_run"] is True and dry["events"] == 1
    assert cli.store.get(schema.WEBHOOK_EVENTS.name, {"event_id": "evt_old"}) is not None
    assert "deleted 0 events" in await run("prune", "--older-than", "60")
    assert "deleted 1 events" in await run("prune")  # the default: 30 days
    assert cli.store.get(schema.WEBHOOK_EVENTS.name, {"event_id": "evt_old"}) is None
