"""An endpoint's life on the dev server with a real receiver: it goes away and comes back (the
events wait and then arrive once each, in order), it fails for too long and the shop disables
it and emails its creator, and its secret is rotated (both signatures during the grace period)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from domains.webhooks import client as webhooks

from . import samples
from .receiver import Receiver
from .test_delivery import until


def events(key: str, count: int):
    now = datetime.now(UTC)
    return [samples.refunded(key, n, now) for n in range(1, count + 1)]


async def test_a_receiver_that_goes_away_and_comes_back_gets_each_event_once_in_order(webhook_shop, receiver):
    shop = webhook_shop
    made = webhooks.register_endpoint(shop.store, receiver.url, ["order.refunded"], created_by="staff:o@shop.test")
    receiver.secret = made.secret
    port = receiver.go_away()
    await webhooks.emit(shop.client, shop.store, events("o-7", 3))
    endpoint_id = made.endpoint.endpoint_id
    await until(lambda: len(webhooks.attempts(shop.store, endpoint_id)) >= 2, what="refused connections")
    assert all(not a["ok"] and "Connection" in a["error"] for a in webhooks.attempts(shop.store, endpoint_id))

    back = Receiver(secret=made.secret).start(port)
    try:
        await until(lambda: len(back.accepted) >= 3, seconds=30, what="the events after the receiver came back")
        await asyncio.sleep(1)
        assert [samples.seq(r.body) for r in back.accepted] == [1, 2, 3]
        assert back.bad_signatures == 0 and not back.invalid
        assert webhooks.get_endpoint(shop.store, endpoint_id).failing_since is None  # healthy again
    finally:
        back.stop()


async def test_an_endpoint_failing_too_long_is_disabled_and_its_creator_emailed(
        webhook_shop, receiver, monkeypatch, mailoutbox):
    shop = webhook_shop
    monkeypatch.setenv("COMMERCE_WEBHOOKS_DISABLE_AFTER_HOURS", str(2 / 3600))  # two seconds instead of a day
    made = webhooks.register_endpoint(shop.store, receiver.url, ["order.refunded"], created_by="staff:own@shop.test")
    receiver.secret, receiver.status = made.secret, 503
    await webhooks.emit(shop.client, shop.store, events("o-8", 2))
    endpoint_id = made.endpoint.endpoint_id
    await until(lambda: not webhooks.get_endpoint(shop.store, endpoint_id).active, seconds=30, what="disabled")
    endpoint = webhooks.get_endpoint(shop.store, endpoint_id)
    assert endpoint.disabled_reason.startswith("every delivery failed since")
    await until(lambda: sorted(d["status"] for d in webhooks.deliveries(shop.store, endpoint_id)) == [
        "failed", "skipped"], what="the first delivery failed, the second skipped (recorded: its delivery is over)")
    [mail] = mailoutbox
    assert mail.to[0] == "own@shop.test" and receiver.url in mail.subject  # then the shop's owners, if any
    assert f"/admin/webhooks/{endpoint_id}/" in mail.body
    tried = receiver.requests
    await asyncio.sleep(1.5)
    assert receiver.requests == tried  # the second event is not sent to a disabled endpoint

    assert [(c["action"], c["actor"]) for c in webhooks.audit_log(shop.store, endpoint_id)] == [
        ("disabled", "system"), ("registered", "staff:own@shop.test")]  # the shop disabled it, and says why
    assert webhooks.audit_log(shop.store, endpoint_id)[0]["detail"] == endpoint.disabled_reason
    assert webhooks.set_active(shop.store, endpoint_id, True, actor="staff:own@shop.test").failing_since is None
    receiver.status = 200
    await webhooks.redeliver(shop.client, shop.store, events("o-8", 1)[0].envelope.id)
    await until(lambda: len(receiver.accepted) == 1, what="delivery after enabling")


async def test_after_a_rotation_both_secrets_verify_during_the_grace_period(webhook_shop, receiver):
    shop = webhook_shop
    made = webhooks.register_endpoint(shop.store, receiver.url, ["order.refunded"], created_by="staff:o@shop.test")
    receiver.secret = made.secret
    new = webhooks.rotate_secret(shop.store, made.endpoint.endpoint_id, actor="staff:o@shop.test")
    assert new != made.secret and new.startswith("whsec_")
    first, second = events("o-9", 2)
    await webhooks.emit(shop.client, shop.store, [first])
    await until(lambda: len(receiver.accepted) == 1, what="verified with the old secret")
    receiver.secret = new
    await webhooks.emit(shop.client, shop.store, [second])
    await until(lambda: len(receiver.accepted) == 2, what="verified with the new secret")
    assert receiver.bad_signatures == 0
