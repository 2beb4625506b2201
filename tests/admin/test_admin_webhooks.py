"""The admin webhook pages through Django's test client, signed in for real, with the delivery
workflows on the dev server and a real receiver: a manager registers an endpoint (the secret
shown once), pings it, sees the attempt and the success rate, redelivers, disables it; bad
forms say why; support and fulfillment staff are kept out."""

from __future__ import annotations

import re

from domains.webhooks import client as webhooks
from storefront import services

from ..web.accounts import staff_browser
from ..web.dom import parse
from ..web.orders_helpers import eventually, run
from ..webhooks.conftest import allow_private, receiver  # noqa: F401  (the fixtures)
from ..webhooks.test_delivery import until


async def test_a_manager_registers_pings_redelivers_and_disables_an_endpoint(orders_web, allow_private,  # noqa: F811
                                                                              receiver):  # noqa: F811
    manager = await run(staff_browser, orders_web, "manager")
    bad = await run(manager.post, "/admin/webhooks/", {"url": "ftp://example.com/x", "events": ["order.placed"]})
    assert bad.status_code == 400 and "http(s)" in bad.content.decode()
    none = await run(manager.post, "/admin/webhooks/", {"url": receiver.url})
    assert none.status_code == 400 and "at least one event" in none.content.decode()

    made = await run(manager.post, "/admin/webhooks/", {"url": receiver.url, "description": "ERP",
                                                         "events": ["order.placed", "order.refunded"]})
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    secret = parse(made.content.decode()).one("pre")
    endpoint_id, receiver.secret = secret.get("data-endpoint"), secret.get("data-secret")
    assert receiver.secret.startswith("whsec_")
    listing = (await run(manager.get, "/admin/webhooks/")).content.decode()
    assert endpoint_id in listing and receiver.secret not in listing  # shown once only

    pinged = await run(manager.post, f"/admin/webhooks/{endpoint_id}/", {"action": "ping"})
    assert pinged.status_code == 302
    await until(lambda: len(receiver.accepted) == 1, what="the ping")
    event_id = receiver.accepted[0].webhook_id

    async def shown() -> str:
        return (await run(manager.get, f"/admin/webhooks/{endpoint_id}/")).content.decode()

    page = await eventually(shown, lambda html: "1 of 1 attempts (100%)" in html)  # logged after the answer
    assert event_id in page

    again = await run(manager.post, f"/admin/webhooks/{endpoint_id}/", {"action": "redeliver", "event_id": event_id})
    assert again.status_code == 302
    await until(lambda: len(receiver.accepted) == 2, what="the redelivery")
    assert receiver.accepted[1].webhook_id == event_id
    missing = await run(manager.post, f"/admin/webhooks/{endpoint_id}/", {"action": "redeliver", "event_id": "evt_x"})
    assert missing.status_code == 404

    rotated = await run(manager.post, f"/admin/webhooks/{endpoint_id}/", {"action": "rotate"})
    assert rotated.status_code == 200 and rotated["Cache-Control"] == "no-store"
    new_secret = parse(rotated.content.decode()).one("pre").get("data-secret")
    assert new_secret.startswith("whsec_") and new_secret != receiver.secret
    page = await shown()
    assert "also signs until" in page and new_secret not in page

    await run(manager.post, f"/admin/webhooks/{endpoint_id}/", {"action": "disable"})
    assert 'data-active="0"' in await shown()
    assert re.search(rf'data-endpoint-id="{endpoint_id}".*?disabled', (await run(
        manager.get, "/admin/webhooks/")).content.decode(), re.S)


async def test_support_and_fulfillment_staff_cannot_open_webhooks(orders_web):
    for role in ("support", "fulfillment"):
        browser = await run(staff_browser, orders_web, role)
        assert (await run(browser.get, "/admin/webhooks/")).status_code == 403
        assert "/admin/webhooks/" not in (await run(browser.get, "/admin/orders/")).content.decode()


async def test_the_endpoint_page_lists_who_changed_it_and_a_delete_is_recorded(orders_web):
    manager = await run(staff_browser, orders_web, "manager")
    made = await run(manager.post, "/admin/webhooks/", {"url": "https://hooks.example.com/erp",
                                                         "events": ["order.placed"]})
    endpoint_id = parse(made.content.decode()).one("pre").get("data-endpoint")
    for action in ("disable", "enable", "rotate"):
        await run(manager.post, f"/admin/webhooks/{endpoint_id}/", {"action": action})

    page = parse((await run(manager.get, f"/admin/webhooks/{endpoint_id}/")).content.decode())
    rows = page.one("table", id="audit").find_all("tr", data_action=True)
    assert [r.get("data-action") for r in rows] == ["rotated", "enabled", "disabled", "registered"]
    assert all(f"staff:{manager.staff_email}" in r.text for r in rows)

    gone = await run(manager.post, f"/admin/webhooks/{endpoint_id}/", {"action": "delete"})
    assert gone.status_code == 302 and gone["Location"] == "/admin/webhooks/"
    listing = (await run(manager.get, "/admin/webhooks/")).content.decode()
    assert f'data-endpoint-id="{endpoint_id}"' not in listing and f"Endpoint {endpoint_id}" in listing  # the notice
    assert (await run(manager.get, f"/admin/webhooks/{endpoint_id}/")).status_code == 404
    [deleted, *_] = webhooks.audit_log(services.store(), endpoint_id)
    assert (deleted["action"], deleted["actor"]) == ("deleted", f"staff:{manager.staff_email}")
