"""Schemathesis against the JSON API's own OpenAPI document, through the real WSGI
application and real workflows: no request shape, valid or not, gets a server error.

Each operation gets up to MAX_EXAMPLES requests, generated from the schema both as it says
(positive) and against it (negative), sent as one of three callers: anonymous, with a
token carrying every scope, or with that token plus real ids (an order with its email, a
cart, a product and variant) so the requests reach the workflows instead of stopping at
"no such order". Every 5xx is
collected with the request that caused it (as a curl command), then the test fails naming
them all. Generation is derandomized, so a failure here fails the same way on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..web.orders_helpers import SHIPPING, place, run

MAX_EXAMPLES = 25


@dataclass(frozen=True)
class Caller:
    name: str
    headers: dict = field(default_factory=dict)
    path_parameters: dict = field(default_factory=dict)  # replace these when the operation has them
    body: dict = field(default_factory=dict)  # ... and these, when the body is an object that has them

    def apply(self, case) -> None:
        case.headers = {**(case.headers or {}), **self.headers}
        for name, value in self.path_parameters.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
        if isinstance(case.body, dict):
            case.body.update({k: v for k, v in self.body.items() if k in case.body})


def callers(token: str, code: str, cart_id: str, variant_id: str, product_id: str) -> list[Caller]:
    bearer = {"Authorization": f"Bearer {token}"}
    return [Caller("anonymous"), Caller("token", bearer),
            Caller("token+real ids", {**bearer, "X-Cart-Id": cart_id, "X-Order-Email": SHIPPING["email"]},
                   {"reference": code, "confirmation": code, "product_id": product_id},
                   {"variant_id": variant_id, "confirmation_code": code})]


def prepare(orders_web, variant_id: str) -> tuple[str, str, str]:
    """A token with every scope, a placed order, and an open cart with a line in it."""
    from django.test import Client

    from domains.identity import client as identity
    from domains.identity.roles import Scope
    from storefront import services

    _, token = services.temporal().run(lambda client: identity.create_token(
        client, "fuzz", list(Scope), "test"))
    code = place(Client(), variant_id, quantity=1)["confirmation_code"]
    shopper = Client()
    added = shopper.post("/api/cart/items", {"variant_id": variant_id, "quantity": 1}, content_type="application/json")
    assert added.status_code == 201
    return token, code, added["X-Cart-Id"]


def fuzz_operation(operation, who: list[Caller], failures: list[str]) -> int:
    """Up to MAX_EXAMPLES requests to one operation; each 5xx goes into `failures` with its
    request (as a curl command), so one run names them all. Returns how many were sent."""
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    sent = 0

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes)),
           caller=st.sampled_from(who))
    def attempt(case, caller: Caller) -> None:
        nonlocal sent
        caller.apply(case)
        response = case.call()
        sent += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {operation.label} as {caller.name}: "
                            f"{response.text[:300]}\n    {case.as_curl_command()}")

    attempt()
    return sent


def fuzz(schema, who: list[Caller]) -> tuple[int, list[str]]:
    """Every operation, every caller: (requests sent, the 5xx answers with their requests)."""
    failures: list[str] = []
    sent = sum(fuzz_operation(result.ok(), who, failures) for result in schema.get_all_operations())
    return sent, failures


async def test_no_request_shape_gets_a_server_error(orders_web, order_variant):
    from storefront.wsgi import application

    token, code, cart_id = await run(prepare, orders_web, order_variant.id)
    schema = await run(schemathesis.openapi.from_wsgi, "/api/schema/?format=json", application)
    who = callers(token, code, cart_id, order_variant.id, order_variant.product_id)
    sent, failures = await run(fuzz, schema, who)
    operations = len(list(schema.get_all_operations()))
    assert operations >= 20 and sent >= operations * 10, (operations, sent)  # it really ran
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures)


# --- hostile bodies the schema's generators do not reach ----------------------------------

DEEP = 1000  # the depth that raised RecursionError in the JSON decoder (a 500)
DEEP_BODIES = {"array": "[" * DEEP + "]" * DEEP, "object": '{"a":' * DEEP + "1" + "}" * DEEP}
HOSTILE_SUBJECTS = ["{% include '../settings.py' %}", "{% include '/etc/passwd' %}",
                    "{% extends 'shop/base.html' %}", "{% load static %}", "{% ssi '/etc/passwd' %}",
                    "{% debug %}", "Hi {% if name %}{% include 'x' %}{% endif %}"]


def body_operations(client) -> list[tuple[str, str]]:
    """(method, path template) of every operation in the OpenAPI document that takes a body."""
    document = client.get("/api/schema/?format=json").json()
    return [(method, path) for path, item in document["paths"].items()
            for method, operation in item.items() if isinstance(operation, dict) and "requestBody" in operation]


def send_deep_bodies(who: list[Caller]) -> tuple[int, list[str], int]:
    """Every body-taking operation, every caller, both deep shapes: (sent, 5xx answers,
    how many answered 400 invalid_json)."""
    import re

    from django.test import Client

    client = Client()
    operations = body_operations(client)
    sent, failures, refused = 0, [], 0
    for method, template in operations:
        for caller in who:
            values = {"cadence": "nope", "contact": "nobody@example.com", "line_id": "nope",
                      **caller.path_parameters}
            path = re.sub(r"{(\w+)}", lambda m: str(values.get(m.group(1), "x")), template)  # noqa: B023 (used in this iteration)
            headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in caller.headers.items()}
            for shape, body in DEEP_BODIES.items():
                response = getattr(client, method)(path, body, content_type="application/json", **headers)
                sent += 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {method.upper()} {path} as {caller.name}, deep {shape}")
                elif response.status_code == 400 and response.json().get("code") == "invalid_json":
                    refused += 1
    return sent, failures, refused


async def test_deeply_nested_json_is_invalid_json_on_every_operation(orders_web, order_variant):
    token, code, cart_id = await run(prepare, orders_web, order_variant.id)
    who = callers(token, code, cart_id, order_variant.id, order_variant.product_id)
    sent, failures, refused = await run(send_deep_bodies, who)
    assert sent >= 10 * 2 * len(who), sent  # it reached the operations
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures)
    # with a token and real ids every operation reads its body (the others may stop at "who are you")
    print(f"deep JSON: {sent} requests, {refused} answered 400 invalid_json")
    assert refused >= sent // 3, (refused, sent)


def save_hostile_subjects(token: str) -> list[tuple[str, int, str]]:
    """Each subject through create and update: (where, status, code) of every answer."""
    import json

    from django.test import Client

    client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    fine = {"type": "SEND_EMAIL", "template": "welcome", "subject": "Welcome, {{ name }}"}
    created = client.post("/api/staff/cadences", {"name": "Fuzz", "steps": [fine]}, content_type="application/json",
                          **auth)
    assert created.status_code == 201, created.content[:300]
    cadence = created.json()["cadence_id"]
    answers = []
    for subject in HOSTILE_SUBJECTS:
        body = json.dumps({"name": "Fuzz", "steps": [{**fine, "subject": subject}]})
        for method, path in (("post", "/api/staff/cadences"), ("put", f"/api/staff/cadences/{cadence}")):
            response = getattr(client, method)(path, body, content_type="application/json", **auth)
            answers.append((f"{method.upper()} {path} {subject!r}", response.status_code,
                            response.json().get("code") if response.status_code < 500 else response.content[:200]))
    return answers


async def test_subjects_that_include_templates_are_template_not_allowed(orders_web, order_variant):
    token, _code, _cart_id = await run(prepare, orders_web, order_variant.id)
    answers = await run(save_hostile_subjects, token)
    wrong = [a for a in answers if a[1:] != (400, "template_not_allowed")]
    assert not wrong, wrong
