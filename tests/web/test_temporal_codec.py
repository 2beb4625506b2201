"""The codec endpoint the Temporal UI and the `temporal` CLI call to read the shop's sealed
payloads: staff with ops:read (or a token with that scope) get them opened; nobody else does,
and only the UI's origin may read the answer from a browser."""

from __future__ import annotations

import base64
import json

from django.conf import settings
from django.test import Client
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from domains.identity import client as identity
from domains.identity.roles import Scope
from infra.payload_codec import EncryptionCodec, parse_keys

from ..security.principals import sign_in
from ..servers import shop_converter
from .accounts import create_shopper, create_staff, shopper_sign_in
from .orders_helpers import run

DECODE = "/admin/temporal-codec/decode"
ENCODE = "/admin/temporal-codec/encode"
SECRET = {"email": "ada@example.com", "address1": "12 Analytical Way"}
EVIL = "https://evil.example"


async def _sealed_body() -> dict:
    """What the UI sends: the payload of SECRET as the shop's converter wrote it to history."""
    payloads = await shop_converter().encode([SECRET])
    return json_format.MessageToDict(Payloads(payloads=payloads))


def _post(browser: Client, path: str, body: dict, **headers):
    return browser.post(path, json.dumps(body), content_type="application/json",
                        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value if "csrftoken" in browser.cookies else "",
                        **headers)


def _opened(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return [json.loads(base64.b64decode(p["data"])) for p in response.json()["payloads"]]


def _people(shop) -> dict[str, Client]:
    from storefront import services

    people = {role: sign_in("/admin/login/", create_staff(shop, role).email) for role in ("owner", "manager",
                                                                                          "support")}
    people["shopper"] = shopper_sign_in(create_shopper(shop).email)
    people["anonymous"] = Client()
    for scope in (Scope.OPS_READ, Scope.ORDERS_READ):
        _, secret = services.temporal().run(lambda client, scope=scope: identity.create_token(
            client, f"codec {scope.value}", [scope], "test"))
        people[f"token {scope.value}"] = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return people


async def test_staff_with_ops_read_get_payloads_opened_and_nobody_else_does(orders_web):
    people = await run(_people, orders_web)
    body = await _sealed_body()
    assert "ada@example.com" not in json.dumps(body)

    for who in ("owner", "manager", "token ops:read"):
        assert await run(lambda w=who: _opened(_post(people[w], DECODE, body))) == [SECRET], who
    refused = {who: await run(lambda w=who: _post(people[w], DECODE, body))
               for who in ("support", "shopper", "anonymous", "token orders:read")}
    assert {who: r.status_code for who, r in refused.items()} == {
        "support": 403, "shopper": 401, "anonymous": 401, "token orders:read": 403}
    assert all("ada@" not in r.content.decode() and r["Content-Type"] == "application/json"
               for r in refused.values())

    # encode, then decode: the round trip the UI does when it edits a payload
    manager = people["manager"]
    plain = json_format.MessageToDict(Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"},
                                                                 data=b'{"a":1}')]))
    sealed = (await run(_post, manager, ENCODE, plain)).json()
    assert base64.b64decode(sealed["payloads"][0]["metadata"]["encoding"]) == b"binary/encrypted"
    assert await run(lambda: _opened(_post(manager, DECODE, sealed))) == [{"a": 1}]
    assert await run(lambda: _opened(_post(manager, DECODE, plain))) == [{"a": 1}]  # unsealed: as it was

    # a key nobody configured here, and a garbled body: 400 with a code, never a 500
    (foreign,) = await EncryptionCodec(parse_keys(f"elsewhere:{base64.b64encode(b'k' * 32).decode()}")).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    unknown = await run(_post, manager, DECODE, json_format.MessageToDict(Payloads(payloads=[foreign])))
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_key"
    garbled = await run(_post, manager, DECODE, {"payloads": [{"data": "not base64!"}]})
    assert garbled.status_code == 400 and garbled.json()["code"] == "invalid_payloads"
    token = manager.cookies["csrftoken"].value
    form = await run(lambda: manager.post(DECODE, {"payloads": "x"}, HTTP_X_CSRFTOKEN=token))
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"


async def test_only_the_temporal_ui_origin_may_read_answers_from_a_browser(orders_web):
    ui = settings.COMMERCE.codec_origin
    manager = await run(lambda: sign_in("/admin/login/", create_staff(orders_web, "manager").email))
    body = await _sealed_body()

    def without_csrf_token(origin: str):  # the UI's page has no CSRF token of the shop's
        return manager.post(DECODE, json.dumps(body), content_type="application/json", HTTP_ORIGIN=origin)

    from_ui = await run(without_csrf_token, ui)
    assert _opened(from_ui) == [SECRET]
    assert from_ui["Access-Control-Allow-Origin"] == ui and from_ui["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in from_ui["Vary"]

    from_elsewhere = await run(without_csrf_token, EVIL)
    assert from_elsewhere.status_code == 403 and from_elsewhere.json()["code"] == "csrf_failed"
    assert "Access-Control-Allow-Origin" not in from_elsewhere and "ada@" not in from_elsewhere.content.decode()

    def preflight(origin: str):
        return Client().options(DECODE, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                                HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-namespace")

    granted = await run(preflight, ui)
    assert granted.status_code == 204 and granted["Access-Control-Allow-Origin"] == ui
    assert "POST" in granted["Access-Control-Allow-Methods"]
    assert {"content-type", "x-namespace"} <= {h.strip().lower() for h in granted["Access-Control-Allow-Headers"]
                                                .split(",")}
    denied = await run(preflight, EVIL)
    assert "Access-Control-Allow-Origin" not in denied and "Access-Control-Allow-Methods" not in denied
