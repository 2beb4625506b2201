"""Registration rules, the address guard and the signature, without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from domains.webhooks import client as webhooks
from domains.webhooks import ids, signing, transport
from domains.webhooks.errors import WebhookError, WebhookErrorCode
from domains.webhooks.messages import EventType
from infra.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "store.sqlite3")
    s.create_schema()
    yield s
    s.close()


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.5.5", "169.254.169.254",
                                     "::1", "fe80::1", "fc00::5", "0.0.0.0", "::ffff:127.0.0.1", "224.0.0.1"])
def test_private_loopback_and_link_local_addresses_are_refused(address):
    assert transport.refused(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert not transport.refused(address)


def test_only_http_urls_with_a_host_are_called():
    for url in ("ftp://example.com/x", "file:///etc/passwd", "http:///nohost", "gopher://a"):
        with pytest.raises(transport.AddressRefused):
            transport.check_url(url)
    with pytest.raises(transport.AddressRefused):
        transport.post("http://127.0.0.1:9/x", b"{}", {}, timeout=1, private_ok=False)


def test_registration_checks_url_events_and_secret(store, monkeypatch):
    monkeypatch.setenv("COMMERCE_WEBHOOKS_ALLOW_PRIVATE", "0")
    for url, events, code in (("http://127.0.0.1:8000/h", ["order.placed"], WebhookErrorCode.INVALID_URL),
                              ("ftp://example.com/h", ["order.placed"], WebhookErrorCode.INVALID_URL),
                              ("https://example.com/h", ["order.nope"], WebhookErrorCode.UNKNOWN_EVENT_TYPE),
                              ("https://example.com/h", [" "], WebhookErrorCode.NO_EVENTS)):
        with pytest.raises(WebhookError) as refused:
            webhooks.register_endpoint(store, url, events, created_by="owner")
        assert refused.value.code == code
    with pytest.raises(WebhookError) as bad:
        webhooks.register_endpoint(store, "https://example.com/h", ["order.placed"], created_by="o", secret="x")
    assert bad.value.code == WebhookErrorCode.INVALID_SECRET

    made = webhooks.register_endpoint(store, "https://example.com/h", ["order.placed", "order.placed",
                                                                         "fulfillment.shipped"], created_by="o")
    assert made.secret.startswith("whsec_") and made.endpoint.events == [EventType.ORDER_PLACED,
                                                                        EventType.FULFILLMENT_SHIPPED]
    [listed] = webhooks.list_endpoints(store)
    assert listed.endpoint_id == made.endpoint.endpoint_id and "secret" not in listed.model_dump()
    assert not webhooks.set_active(store, listed.endpoint_id, False, actor="staff:ann@shop.test").active


def test_signature_verifies_with_the_stock_verifier_and_ids_are_stable():
    secret = signing.new_secret()
    body = b'{"id":"evt_1"}'
    headers = signing.headers(secret, "evt_1", body, datetime.now(UTC))
    assert Webhook(secret).verify(body, headers) == {"id": "evt_1"}
    with pytest.raises(Exception):  # noqa: B017 - the library raises its own verification error
        Webhook(signing.new_secret()).verify(body, headers)
    assert ids.event_id("order:a:3", EventType.ORDER_PLACED) == ids.event_id("order:a:3", EventType.ORDER_PLACED)
    assert ids.event_id("order:a:3", EventType.ORDER_PLACED) != ids.event_id("order:a:4", EventType.ORDER_PLACED)


def test_a_rotation_signs_with_both_secrets_and_each_verifies():
    old, new = signing.new_secret(), signing.new_secret()
    body = b'{"id":"evt_2"}'
    both = signing.headers(new, "evt_2", body, previous=old)
    assert len(both["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, both) == {"id": "evt_2"}
    only_new = signing.headers(new, "evt_2", body)
    with pytest.raises(Exception):  # noqa: B017
        Webhook(old).verify(body, only_new)


def test_the_published_schema_is_what_the_event_models_generate():
    from storefront.webhook_payloads import EVENT_DATA, PUBLISHED, schema, schema_text

    assert PUBLISHED.read_text() == schema_text(), "run: python manage.py webhooks schema > docs/webhooks.schema.json"
    assert set(EVENT_DATA) == set(EventType)  # every type has its data model
    published = schema()
    assert set(published["discriminator"]["mapping"]) == {t.value for t in EventType}
    ping = published["$defs"]["WebhookPingEvent"]
    assert set(ping["required"]) == {"id", "type", "created_at", "data"} and ping["additionalProperties"] is False


def test_a_body_validates_against_its_types_model_only():
    from pydantic import ValidationError

    from storefront.webhook_payloads import validate_body

    stock = {"id": "evt_1", "type": "stock.low", "version": 1, "created_at": "2026-12-05T10:00:00Z",
             "data": {"sku": "S1", "on_hand": 3, "reserved": 1, "committed": 0, "available": 2, "threshold": 5}}
    assert validate_body(json.dumps(stock)).data.available == 2
    for broken in ({**stock, "type": "webhook.ping"},  # a stock.low's data under another type
                   {**stock, "version": 2},  # a version the models do not have
                   {**stock, "data": {**stock["data"], "extra": 1}},
                   {**stock, "data": {k: v for k, v in stock["data"].items() if k != "sku"}}):
        with pytest.raises(ValidationError):
            validate_body(json.dumps(broken))


def test_the_schema_is_served_and_linked_from_the_openapi_description(client):
    from storefront.webhook_payloads import schema

    answer = client.get("/api/webhooks/schema.json")
    assert answer.status_code == 200 and answer.json() == schema()
    assert "/api/webhooks/schema.json" in client.get("/api/schema/?format=json").json()["info"]["description"]


def test_each_change_of_an_endpoint_is_in_its_audit_trail_newest_first(store):
    made = webhooks.register_endpoint(store, "https://hooks.example.com/a", ["order.placed", "stock.low"],
                                      created_by="staff:ann@shop.test")
    endpoint_id = made.endpoint.endpoint_id
    other = webhooks.register_endpoint(store, "https://hooks.example.com/b", ["order.placed"], created_by="token:t1")
    webhooks.set_active(store, endpoint_id, False, actor="staff:bob@shop.test")
    webhooks.set_active(store, endpoint_id, True, actor="staff:bob@shop.test")
    webhooks.rotate_secret(store, endpoint_id, actor="token:t9")
    webhooks.delete_endpoint(store, endpoint_id, actor="staff:ann@shop.test")

    trail = webhooks.audit_log(store, endpoint_id)
    assert [(c["action"], c["actor"]) for c in trail] == [
        ("deleted", "staff:ann@shop.test"), ("rotated", "token:t9"), ("enabled", "staff:bob@shop.test"),
        ("disabled", "staff:bob@shop.test"), ("registered", "staff:ann@shop.test")]
    assert trail[-1]["detail"] == "https://hooks.example.com/a for order.placed, stock.low"
    assert trail[0]["detail"] == "https://hooks.example.com/a"
    with pytest.raises(WebhookError) as gone:  # deleted: its trail outlives it
        webhooks.get_endpoint(store, endpoint_id)
    assert gone.value.code == WebhookErrorCode.ENDPOINT_NOT_FOUND
    assert [c["action"] for c in webhooks.audit_log(store, other.endpoint.endpoint_id)] == ["registered"]
    with pytest.raises(WebhookError):
        webhooks.delete_endpoint(store, endpoint_id, actor="staff:ann@shop.test")
