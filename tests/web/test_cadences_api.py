"""The cadences JSON API with API tokens made on the admin tokens page: create a cadence,
enroll contacts (their first email goes out), edit it under running enrollments; pause,
resume, cancel, unsubscribe; and the stable codes of bad bodies and missing scopes. Real
workflows on the dev server; emails land in Django's in-memory outbox."""

from __future__ import annotations

import re

from django.test import Client

from ..web.accounts import new_email, staff_browser
from ..web.orders_helpers import eventually, run

WELCOME = {"type": "SEND_EMAIL", "template": "welcome", "subject": "Welcome, {{ name }}"}
FOLLOW_UP = {"type": "SEND_EMAIL", "template": "follow_up", "subject": "Still looking?"}


async def make_token(browser: Client, name: str, *scopes: str) -> str:
    response = await run(browser.post, "/admin/tokens/", {"name": name, "scopes": list(scopes)})
    assert response.status_code == 201, response.content.decode()[:400]
    return re.search(r'data-token="(ck_[^"]+)"', response.content.decode()).group(1)


def actor(token: str) -> str:
    return f"token:{token.split('_')[1]}"


class Api:
    """A JSON client carrying one API token."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    async def get(self, path: str):
        return await run(self.client.get, path, **self.headers)

    async def post(self, path: str, body=None):
        return await run(self.client.post, path, body if body is not None else {}, content_type="application/json",
                         **self.headers)

    async def put(self, path: str, body):
        return await run(self.client.put, path, body, content_type="application/json", **self.headers)


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status and response.json()["code"] == code, (response.status_code,
                                                                                 response.content[:400])


async def tokens(shop, *scopes_per_token: tuple[str, ...]) -> list[str]:
    manager = await run(staff_browser, shop, "manager")
    return [await make_token(manager, f"integration {n}", *scopes) for n, scopes in enumerate(scopes_per_token)]


async def test_a_cadence_made_enrolled_and_edited_through_the_api(orders_web, mailoutbox):
    writer_token, reader_token = await tokens(orders_web, ("cadences:write",), ("cadences:read",))
    writer, reader = Api(writer_token), Api(reader_token)
    created = await writer.post("/api/staff/cadences", {"name": "Welcome", "steps": [
        WELCOME, {"type": "WAIT", "duration": "2d"}, FOLLOW_UP]})
    assert created.status_code == 201, created.content
    cadence = created.json()
    cid, (first, wait, last) = cadence["cadence_id"], [s["id"] for s in cadence["steps"]]
    assert cadence["version"] == 1 and cadence["created_by"] == actor(writer_token)
    assert len({first, wait, last}) == 3 and cadence["steps"][1]["seconds"] == 2 * 86400
    assert created["Location"] == f"/api/staff/cadences/{cid}"
    listed = await reader.get("/api/staff/cadences")
    assert [c["cadence_id"] for c in listed.json()["cadences"]] == [cid]
    refused(await reader.post("/api/staff/cadences", {"name": "Mine", "steps": [WELCOME]}), 403,
            "insufficient_scope")

    ada, bob = new_email("ada"), new_email("bob")
    enrolled = await writer.post(f"/api/staff/cadences/{cid}/enrollments",
                                 {"contacts": [{"email": ada, "name": "Ada"}, {"email": bob}]})
    assert enrolled.status_code == 201, enrolled.content
    assert [(r["email"], r["enrolled"]) for r in enrolled.json()["results"]] == [(ada, True), (bob, True)]

    async def sent():
        return {m.to[0]: m.subject for m in mailoutbox}

    assert (await eventually(sent, lambda s: len(s) == 2)) == {ada: "Welcome, Ada",
                                                               bob: f"Welcome, {bob.split('@')[0]}"}

    async def cadence_page():
        return (await reader.get(f"/api/staff/cadences/{cid}")).json()

    seen = await eventually(cadence_page, lambda c: c.get("counts", {}).get("per_step", {}).get(wait) == 2)
    assert seen["counts"]["per_step"][first] == 0 and seen["counts"]["running"] == 2

    # a second version: a shorter wait and one more email; running enrollments take it where they are
    edited = await writer.put(f"/api/staff/cadences/{cid}", {
        "name": "Welcome series", "apply_to": "running", "expected_version": 1,
        "steps": [{**WELCOME, "id": first}, {"id": wait, "type": "WAIT", "seconds": 3600}, {**FOLLOW_UP, "id": last},
                  {"type": "SEND_EMAIL", "template": "follow_up", "subject": "Last call"}]})
    assert edited.status_code == 200, edited.content
    assert edited.json()["version"] == 2 and edited.json()["propagation"]["version"] == 2
    assert edited.json()["updated_by"] == actor(writer_token)
    refused(await writer.put(f"/api/staff/cadences/{cid}", {"name": "Again", "steps": [WELCOME],
                                                            "expected_version": 1}),
            409, "stale_version")

    async def ada_enrollment():
        return (await reader.get(f"/api/staff/cadences/{cid}/enrollments/{ada}")).json()

    now = await eventually(ada_enrollment, lambda e: e.get("steps_version") == 2)
    assert now["status"] == "waiting" and now["steps"][now["current_step"]]["id"] == wait
    assert 0 < now["wait_seconds_left"] <= 3600  # re-evaluated against the new duration
    assert now["enrolled_by"] == actor(writer_token) and now["done"] == [first]
    assert any(e["kind"] == "steps_updated" and actor(writer_token) in e["detail"] for e in now["timeline"])
    assert len(mailoutbox) == 2  # the welcome email is not sent again

    # enrolling again: per-contact results, 200 when only some were enrolled
    carol = new_email("carol")
    again = await writer.post(f"/api/staff/cadences/{cid}/enrollments",
                              {"contacts": [{"email": ada}, {"email": carol}, {"email": "not an address"}],
                               "data": {"order_code": "ABC-123"}})
    assert again.status_code == 200, again.content
    assert [(r["enrolled"], r.get("code")) for r in again.json()["results"]] == [
        (False, "already_enrolled"), (True, None), (False, "invalid_contact")]

    async def listing():
        return (await reader.get(f"/api/staff/cadences/{cid}/enrollments")).json()["enrollments"]

    # a version for new enrollments only: the running ones keep version 2
    newer = await writer.put(f"/api/staff/cadences/{cid}", {
        "name": "Welcome series", "apply_to": "new", "steps": [{**WELCOME, "id": first}, {"id": wait, "type": "WAIT",
                                                                                           "duration": "1h"}]})
    assert newer.status_code == 200 and newer.json()["version"] == 3
    dave = new_email("dave")
    assert (await writer.post(f"/api/staff/cadences/{cid}/enrollments",
                              {"contacts": [{"email": dave}]})).status_code == 201

    async def dave_enrollment():
        return (await reader.get(f"/api/staff/cadences/{cid}/enrollments/{dave}")).json()

    assert len((await eventually(dave_enrollment, lambda e: e.get("steps_version") == 3))["steps"]) == 2
    assert (await ada_enrollment())["steps_version"] == 2

    found = await eventually(listing, lambda rows: {row["email"] for row in rows} == {ada, bob, carol, dave})
    assert len(found) == 4 and {row["status"] for row in found} <= {"running", "waiting"}


async def test_pause_resume_cancel_and_unsubscribe(orders_web, mailoutbox):
    (writer_token,) = await tokens(orders_web, ("cadences:write",))
    writer = Api(writer_token)
    created = await writer.post("/api/staff/cadences", {"name": "Slow", "steps": [
        {"type": "WAIT", "duration": "1h"}, WELCOME]})
    cid = created.json()["cadence_id"]
    ann, ben = new_email("ann"), new_email("ben")
    results = (await writer.post(f"/api/staff/cadences/{cid}/enrollments",
                                 {"contacts": [{"email": ann}, {"email": ben}]})).json()["results"]
    ann_id = results[0]["contact_id"]
    base = f"/api/staff/cadences/{cid}/enrollments"

    async def enrollment(who: str):
        return (await writer.get(f"{base}/{who}")).json()

    await eventually(lambda: enrollment(ann_id), lambda e: e.get("status") == "waiting")
    paused = await writer.post(f"{base}/{ann_id}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    resumed = await writer.post(f"{base}/{ann_id}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "waiting"
    cancelled = await writer.post(f"{base}/{ann}/cancel", {"reason": "asked us to stop"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert ("asked us to stop" in cancelled.json()["ended_reason"]
            and actor(writer_token) in cancelled.json()["ended_reason"])
    refused(await writer.post(f"{base}/{ann_id}/cancel"), 409, "enrollment_ended")
    refused(await writer.post(f"{base}/{ann_id}/resume"), 409, "enrollment_ended")
    refused(await writer.post(f"{base}/{ann_id}/explode"), 404, "not_found")
    assert [e["kind"] for e in (await enrollment(ann_id))["timeline"]][-3:] == ["paused", "resumed", "cancelled"]

    await eventually(lambda: enrollment(ben), lambda e: e.get("status") == "waiting")
    gone = await writer.post("/api/staff/unsubscribes", {"email": ben.upper()})
    assert gone.status_code == 200 and gone.json()["email"] == ben and gone.json()["unsubscribed_at"]
    assert gone.json()["contact_id"] == results[1]["contact_id"]
    ended = await eventually(lambda: enrollment(ben), lambda e: e.get("status") == "cancelled")
    assert "unsubscribed" in ended["ended_reason"]
    refused(await writer.post(base, {"contacts": [{"email": ben}]}), 409, "unsubscribed")
    assert mailoutbox == []  # both were still waiting: nothing was sent


async def test_bad_bodies_and_missing_scopes_get_stable_codes(orders_web):
    writer_token, orders_token = await tokens(orders_web, ("cadences:write",), ("orders:read",))
    writer, outsider = Api(writer_token), Api(orders_token)
    bad = [
        ({"name": "No steps", "steps": []}, "invalid_steps", None),
        ({"name": "Zero", "steps": [{"type": "WAIT", "seconds": 0}]}, "invalid_steps", None),
        ({"name": "Huh", "steps": [{**WELCOME, "template": "no_such_template"}]}, "unknown_template", None),
        ({"name": "Soon", "steps": [{"type": "WAIT", "duration": "soon"}]}, "invalid_parameter", "steps[0].duration"),
        ({"name": "Odd", "steps": [WELCOME, {"type": "TELEPORT"}]}, "invalid_parameter", "steps[1].type"),
        ({"name": "Broken", "steps": [{**WELCOME, "subject": "{% if %}"}]}, "invalid_parameter", "steps[0].subject"),
        ({"name": "Sneaky", "steps": [{**WELCOME, "subject": '{%include "cadence_emails/welcome.txt"%}'}]},
         "template_not_allowed", "steps[0].subject"),
        ({"name": "Up", "steps": [{**WELCOME, "subject": "{% include '../settings.py' %}"}]},
         "template_not_allowed", "steps[0].subject"),
        ({"steps": [WELCOME]}, "invalid_parameter", "name"),
        ({"name": "Ids", "steps": [{**WELCOME, "id": "s1"}]}, "unknown_step", None),
    ]
    for body, code, parameter in bad:
        response = await writer.post("/api/staff/cadences", body)
        refused(response, 400, code)
        assert response.json().get("parameter") == parameter, response.json()
    assert (await writer.get("/api/staff/cadences")).json() == {"cadences": []}  # none was saved

    cid = (await writer.post("/api/staff/cadences", {"name": "Ok", "steps": [WELCOME]})).json()["cadence_id"]
    refused(await writer.put(f"/api/staff/cadences/{cid}", {"name": "Ok", "steps": [{**WELCOME, "id": "s99"}]}),
            400, "unknown_step")
    refused(await writer.put(f"/api/staff/cadences/{cid}", {"name": "Ok", "steps": [WELCOME], "expected_version": 7}),
            409, "stale_version")
    refused(await writer.get("/api/staff/cadences/nope"), 404, "cadence_not_found")
    refused(await writer.get(f"/api/staff/cadences/{cid}/enrollments/{new_email('x')}"), 404, "enrollment_not_found")
    refused(await writer.post(f"/api/staff/cadences/{cid}/enrollments",
                              {"contacts": [{"email": f"c{n}@example.com"} for n in range(501)]}),
            400, "invalid_parameter")
    refused(await writer.post("/api/staff/unsubscribes", {"email": "nobody"}), 400, "invalid_contact")
    for reserved in ({"order_id": "someone-elses-order"}, {"cart_id": "someone-elses-cart"}):
        # signed review/restore links to another customer's order or cart cannot be minted
        refused(await writer.post(f"/api/staff/cadences/{cid}/enrollments",
                                  {"contacts": [{"email": new_email("z")}], "data": reserved}), 400,
                                  "invalid_parameter")
    paused = await writer.put(f"/api/staff/cadences/{cid}", {"name": "Ok", "steps": [WELCOME], "active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False
    renamed = await writer.put(f"/api/staff/cadences/{cid}", {"name": "Renamed", "steps": [WELCOME]})
    assert renamed.json()["active"] is False and renamed.json()["version"] == 3  # left out: kept as it was
    refused(await writer.post(f"/api/staff/cadences/{cid}/enrollments", {"contacts": [{"email": new_email("y")}]}),
            409, "cadence_inactive")

    refused(await outsider.get("/api/staff/cadences"), 403, "insufficient_scope")
    refused(await outsider.post(f"/api/staff/cadences/{cid}/enrollments", {"contacts": [{"email": "a@example.com"}]}),
            403, "insufficient_scope")
    refused(await Api(None).get("/api/staff/cadences"), 401, "authentication_required")
