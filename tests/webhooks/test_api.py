"""The webhooks JSON API with API tokens made on the admin tokens page: register (the secret in
the 201 answer only), list, read with the delivery log, ping a real receiver, redeliver,
disable; scopes and the stable codes of bad bodies. Real workflows on the dev server."""

from __future__ import annotations

import asyncio

from ..web.accounts import staff_browser
from ..web.orders_helpers import run
from ..web.test_cadences_api import Api, make_token, refused
from .test_delivery import until


async def test_an_integration_registers_pings_reads_the_log_redelivers_and_disables(orders_web, allow_private,
                                                                                       receiver):
    owner = await run(staff_browser, orders_web, "owner")
    writer = Api(await make_token(owner, "erp", "webhooks:write"))
    reader = Api(await make_token(owner, "dashboard", "webhooks:read"))
    other = Api(await make_token(owner, "orders", "orders:read"))

    refused(await reader.post("/api/staff/webhooks", {"url": receiver.url, "events": ["order.placed"]}), 403,
            "insufficient_scope")
    refused(await other.get("/api/staff/webhooks"), 403, "insufficient_scope")
    refused(await writer.post("/api/staff/webhooks", {"url": "ftp://x.example/h", "events": ["order.placed"]}), 400,
            "invalid_url")
    refused(await writer.post("/api/staff/webhooks", {"url": receiver.url, "events": ["order.nope"]}), 400,
            "unknown_event_type")
    refused(await writer.post("/api/staff/webhooks", {"url": receiver.url, "events": []}), 400, "invalid_parameter")
    refused(await writer.post("/api/staff/webhooks", {"url": receiver.url, "events": ["order.placed"],
                                                      "secret": "short"}), 400, "invalid_secret")
    refused(await reader.get("/api/staff/webhooks/we_0123456789abcdef"), 404, "endpoint_not_found")

    made = await writer.post("/api/staff/webhooks", {"url": receiver.url, "events": ["order.placed"]})
    assert made.status_code == 201, made.content[:400]
    endpoint = made.json()
    receiver.secret, endpoint_id = endpoint["secret"], endpoint["endpoint_id"]
    assert endpoint["created_by"].startswith("token:") and endpoint["events"] == ["order.placed"]
    listed = (await reader.get("/api/staff/webhooks")).json()["endpoints"]
    assert [e["endpoint_id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]

    pinged = await writer.post(f"/api/staff/webhooks/{endpoint_id}/ping")
    assert pinged.status_code == 202
    event_id = pinged.json()["event_id"]
    await until(lambda: len(receiver.accepted) == 1, what="the ping")
    assert receiver.accepted[0].webhook_id == event_id

    async def log():
        return (await reader.get(f"/api/staff/webhooks/{endpoint_id}")).json()

    for _ in range(50):
        shown = await log()
        if shown["summary"]["succeeded"] == 1:
            break
        await asyncio.sleep(0.1)  # the attempt is logged just after the receiver answered
    assert shown["attempts"][0]["event_id"] == event_id and shown["attempts"][0]["http_status"] == 200
    assert shown["deliveries"][0]["status"] == "delivered"

    refused(await writer.post(f"/api/staff/webhooks/{endpoint_id}/redeliver", {"event_id": "evt_nope"}), 404,
            "event_not_found")
    again = await writer.post(f"/api/staff/webhooks/{endpoint_id}/redeliver", {"event_id": event_id})
    assert again.status_code == 202 and again.json()["endpoints"] == [endpoint_id]
    await until(lambda: len(receiver.accepted) == 2, what="the redelivery")
    assert receiver.accepted[1].webhook_id == event_id

    patched = await run(writer.client.patch, f"/api/staff/webhooks/{endpoint_id}", {"active": False},
                        content_type="application/json", **writer.headers)
    assert patched.status_code == 200 and patched.json()["active"] is False
    refused(await run(reader.client.patch, f"/api/staff/webhooks/{endpoint_id}", {"active": True},
                      content_type="application/json", **reader.headers), 403, "insufficient_scope")

    actor = endpoint["created_by"]  # token:<id> of the writer
    assert [(c["action"], c["actor"]) for c in (await log())["audit"]] == [("disabled", actor), ("registered", actor)]
    refused(await run(reader.client.delete, f"/api/staff/webhooks/{endpoint_id}", **reader.headers), 403,
            "insufficient_scope")
    deleted = await run(writer.client.delete, f"/api/staff/webhooks/{endpoint_id}", **writer.headers)
    assert deleted.status_code == 204
    refused(await reader.get(f"/api/staff/webhooks/{endpoint_id}"), 404, "endpoint_not_found")
    refused(await run(writer.client.delete, f"/api/staff/webhooks/{endpoint_id}", **writer.headers), 404,
            "endpoint_not_found")
    assert (await reader.get("/api/staff/webhooks")).json()["endpoints"] == []
