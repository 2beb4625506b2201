"""The admin cadence pages through Django's test client, signed in for real, against the
cadence workflows on the dev server (visibility included, so counts are polled): creating and
editing cadences through the form, enrolling a pasted list, the live counts, an enrollment's
page and its pause / resume / cancel, unsubscribing, and who may do what.

Waits are an hour or more, so no second email goes out while a test runs."""

from __future__ import annotations

import asyncio
from unittest import mock

from django.test import Client
from temporalio.service import RPCError, RPCStatusCode

from domains.cadences import client as cadences_client
from domains.cadences.ids import contact_id

from ..web.accounts import new_email, staff_browser
from ..web.dom import parse
from ..web.orders_helpers import eventually, run


def status_of(doc) -> str:
    """The enrollment's status code (the page shows its label)."""
    return doc.one(id="enrollment-status").get("data-status")


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """What a browser would submit from the form as it is shown."""
    form = parse(html).one("form", id=form_id)
    fields: dict[str, str] = {}
    for el in form.iter():
        name = el.get("name")
        if not name:
            continue
        if el.tag == "input":
            if el.get("type") in ("checkbox", "radio"):
                if "checked" in el.attrs:
                    fields[name] = el.get("value", "on")
            else:
                fields[name] = el.get("value", "")
        elif el.tag == "select":
            options = el.find_all("option")
            chosen = next((o for o in options if "selected" in o.attrs), options[0] if options else None)
            fields[name] = chosen.get("value", chosen.text) if chosen else ""
        elif el.tag == "textarea":
            fields[name] = el.text
    return fields


def rows(*steps: tuple) -> dict[str, str]:
    """Form fields for the step rows: ("SEND_EMAIL", template, subject) or ("WAIT", duration)."""
    out = {}
    for n, step in enumerate(steps):
        if step[0] == "WAIT":
            out.update({f"steps-{n}-type": "WAIT", f"steps-{n}-wait": step[1]})
        else:
            out.update({f"steps-{n}-type": "SEND_EMAIL", f"steps-{n}-template": step[1], f"steps-{n}-subject": step[2]})
    return out


async def submit_new(browser: Client, name: str, *steps: tuple, **extra):
    page = await run(browser.get, "/admin/cadences/new")
    assert page.status_code == 200
    return await run(browser.post, "/admin/cadences/new",
                     {**form_fields(page.content.decode(), "cadence-form"), "name": name, **rows(*steps), **extra})


async def create(browser: Client, name: str, *steps: tuple) -> str:
    response = await submit_new(browser, name, *steps)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].split("/")[3]


async def get(browser: Client, url: str, status: int = 200):
    response = await run(browser.get, url)
    assert response.status_code == status, response.content.decode()[:2000]
    return parse(response.content.decode())


async def enroll(browser: Client, cadence: str, text: str) -> dict[str, str]:
    """Paste `text` into the enroll form; the result per line."""
    response = await run(browser.post, f"/admin/cadences/{cadence}/enroll", {"contacts": text})
    assert response.status_code == 200, response.content.decode()[:2000]
    table = parse(response.content.decode()).one("table", id="enroll-outcomes")
    return {tr.get("data-line"): tr.get("data-result") for tr in table.find_all("tr", data_line=True)}


def error_text(response) -> str:
    return parse(response.content.decode()).one(id="form-error").text


WELCOME = ("SEND_EMAIL", "welcome", "Welcome {{ name }}")
AN_HOUR = ("WAIT", "1h")
FOLLOW_UP = ("SEND_EMAIL", "follow_up", "Still there?")


async def test_a_manager_creates_a_cadence_and_bad_forms_say_why(orders_web):
    manager = await run(staff_browser, orders_web, "manager")
    cadence = await create(manager, "Welcome series", WELCOME, ("WAIT", "2d 4h"), FOLLOW_UP)

    listed = (await get(manager, "/admin/cadences/")).one("tr", data_cadence=cadence)
    assert "Welcome series" in listed.text and listed.one(data_steps=True).text == "3"
    assert "Manual (staff enroll)" in listed.text and "active" in listed.text
    doc = await get(manager, f"/admin/cadences/{cadence}/")
    assert [tr.find_all("td")[1].text for tr in doc.one(id="cadence-steps").find_all("tr", data_step=True)] == [
        "send welcome: Welcome {{ name }}", "wait 2d 4h", "send follow_up: Still there?"]
    assert doc.one("tr", data_version="1").one(class_="actor").text == f"staff:{manager.staff_email}"

    refused = {
        "no steps": ((), "at least one step"),
        "zero wait": ((WELCOME, ("WAIT", "0")), "a WAIT needs a positive duration"),
        "unknown template": ((("SEND_EMAIL", "no_such_template", "Hi"),), "no email template 'no_such_template'"),
        "bad duration": ((WELCOME, ("WAIT", "two days")), "is not a duration"),
        "no subject": ((("SEND_EMAIL", "welcome", "  "),), "needs a subject"),
    }
    for case, (steps, message) in refused.items():
        response = await submit_new(manager, f"Broken ({case})", *steps)
        assert response.status_code == 400, case
        assert message in error_text(response), (case, error_text(response))
        assert f"Broken ({case})" in response.content.decode()  # the form keeps what was typed
    names = [tr.text for tr in (await get(manager, "/admin/cadences/")).find_all("tr", data_cadence=True)]
    assert not any("Broken" in n for n in names)


async def test_enrolling_a_pasted_list_sends_and_counts_per_step(orders_web, mailoutbox):
    manager = await run(staff_browser, orders_web, "manager")
    cadence = await create(manager, "Onboarding", WELCOME, AN_HOUR, FOLLOW_UP)
    ann, bob = new_email("ann"), new_email("bob")
    assert await enroll(manager, cadence, f"{ann}, Ann") == {"1": "enrolled"}

    outcomes = await enroll(manager, cadence, f"{ann}\nBob Stone <{bob}>\nnot-an-address\n{bob.upper()}, Bobby")
    assert outcomes == {"1": "already enrolled", "2": "enrolled", "3": "invalid", "4": "duplicate"}

    await eventually(lambda: asyncio.sleep(0, sorted(m.to[0] for m in mailoutbox)), lambda to: to == sorted([ann, bob]))
    assert {m.subject for m in mailoutbox} == {"Welcome Ann", "Welcome Bob Stone"}

    # both wait on step 2 (visibility catches up within a second or two)
    async def detail():
        return await get(manager, f"/admin/cadences/{cadence}/")

    doc = await eventually(detail, lambda d: [tr.get("data-here") for tr in d.find_all("tr", data_step=True)]
                           == ["0", "2", "0"])
    assert doc.one(data_count="running").one(class_="n").text == "2"
    assert doc.one(data_count="completed").one(class_="n").text == "0"
    recent = {tr.get("data-contact"): tr.get("data-state") for tr in doc.one(id="enrollments").find_all(
        "tr", data_contact=True)}
    assert recent == {contact_id(ann): "waiting", contact_id(bob): "waiting"}
    listed = (await get(manager, "/admin/cadences/")).one("tr", data_cadence=cadence)
    assert listed.one(class_="running").text == "2"


async def test_an_edit_reaches_a_running_enrollment_which_staff_pause_resume_and_cancel(orders_web):
    manager = await run(staff_browser, orders_web, "manager")
    cadence = await create(manager, "Nurture", WELCOME, AN_HOUR, FOLLOW_UP)
    ann = new_email("ann")
    assert await enroll(manager, cadence, ann) == {"1": "enrolled"}
    page = f"/admin/cadences/{cadence}/enrollments/{contact_id(ann)}"

    async def enrollment():
        return await get(manager, page)

    doc = await eventually(enrollment, lambda d: status_of(d) == "waiting")
    assert doc.one(id="steps-version").text == "1" and doc.one(id="current-step").text == "wait 1h"
    assert doc.one("tr", data_step="s1").get("data-done") == "true"
    assert doc.one(id="wait-left").text.startswith("59m")

    # a longer wait, for running enrollments too: ann's wait is re-evaluated against 3h
    form_page = await run(manager.get, f"/admin/cadences/{cadence}/edit")
    edit = form_fields(form_page.content.decode(), "cadence-form")
    assert edit["apply_to"] == "running" and edit["steps-1-wait"] == "1h" and edit["expected_version"] == "1"
    saved = await run(manager.post, f"/admin/cadences/{cadence}/edit", {**edit, "steps-1-wait": "3h"})
    assert saved.status_code == 302 and saved["Location"] == f"/admin/cadences/{cadence}/"
    shown = await get(manager, saved["Location"])
    assert "version 2" in shown.one(class_="notice").text
    doc = await eventually(enrollment, lambda d: d.one(id="steps-version").text == "2")
    assert doc.one(id="current-step").text == "wait 3h" and doc.one(id="wait-left").text.startswith("2h 59m")
    assert doc.find("tr", data_kind="steps_updated") is not None
    await eventually(lambda: get(manager, f"/admin/cadences/{cadence}/"),
                     lambda d: "sent to 1 running enrollment" in d.one(id="propagation").text)

    # the same old form again: someone saved meanwhile
    stale = await run(manager.post, f"/admin/cadences/{cadence}/edit", {**edit, "steps-1-wait": "5h"})
    assert stale.status_code == 409 and "changed meanwhile" in error_text(stale)

    for action, status in (("pause", "paused"), ("resume", "waiting"), ("cancel", "cancelled")):
        done = await run(manager.post, f"{page}/{action}", {"reason": "test"} if action == "cancel" else {})
        assert done.status_code == 302, done.content.decode()[:2000]
        doc = await get(manager, page)
        assert status_of(doc) == status, action
    assert [tr.get("data-kind") for tr in doc.one(id="timeline").find_all("tr", data_kind=True)][-3:] == [
        "paused", "resumed", "cancelled"]
    assert doc.find(id="enrollment-actions") is None
    again = await run(manager.post, f"{page}/pause")
    assert again.status_code == 409 and "cancelled" in parse(again.content.decode()).one(id="action-error").text
    assert (await run(manager.post, f"{page}/restart")).status_code == 404


async def test_support_enrolls_and_unsubscribes_but_cannot_edit_and_fulfillment_sees_nothing(orders_web):
    manager = await run(staff_browser, orders_web, "manager")
    cadence = await create(manager, "Win-back", WELCOME, AN_HOUR, FOLLOW_UP)
    support = await run(staff_browser, orders_web, "support")

    doc = await get(support, "/admin/cadences/")
    assert doc.find(id="new-cadence") is None and doc.find("tr", data_cadence=cadence) is not None
    assert (await get(support, f"/admin/cadences/{cadence}/")).find(id="edit-cadence") is None
    for url in ("/admin/cadences/new", f"/admin/cadences/{cadence}/edit"):
        assert (await run(support.get, url)).status_code == 403
        assert (await run(support.post, url, {"name": "Mine", **rows(WELCOME)})).status_code == 403

    ann = new_email("ann")
    assert await enroll(support, cadence, ann) == {"1": "enrolled"}
    page = f"/admin/cadences/{cadence}/enrollments/{contact_id(ann)}"
    await eventually(lambda: get(support, page), lambda d: status_of(d) == "waiting")
    gone = await run(support.post, "/admin/cadences/unsubscribe", {"email": ann.upper()})
    assert gone.status_code == 302 and "unsubscribed" in (await get(support,
                                                                    "/admin/cadences/")).one(class_="notice").text
    doc = await eventually(lambda: get(support, page), lambda d: status_of(d) == "cancelled")
    assert "unsubscribe" in doc.one(id="ended-reason").text
    assert await enroll(support, cadence, ann) == {"1": "unsubscribed"}
    bad = await run(support.post, "/admin/cadences/unsubscribe", {"email": "not an address"})
    assert bad.status_code == 400 and "not an email address" in parse(
        bad.content.decode()).one(id="cadences-error").text

    assert (await run(support.get, "/admin/cadences/nosuch/")).status_code == 404
    assert (await run(support.get,
                      f"/admin/cadences/{cadence}/enrollments/{contact_id('x@example.com')}")).status_code == 404
    packer = await run(staff_browser, orders_web, "fulfillment")
    assert (await run(packer.get, "/admin/cadences/")).status_code == 403
    assert (await run(packer.post, f"/admin/cadences/{cadence}/enroll", {"contacts": ann})).status_code == 403


async def test_an_edit_for_new_enrollments_only_and_pages_that_fall_back_to_the_store(orders_web):
    manager = await run(staff_browser, orders_web, "manager")
    cadence = await create(manager, "Reorder nudge", WELCOME, AN_HOUR, FOLLOW_UP)
    ann = new_email("ann")
    assert await enroll(manager, cadence, ann) == {"1": "enrolled"}
    page = f"/admin/cadences/{cadence}/enrollments/{contact_id(ann)}"
    await eventually(lambda: get(manager, page), lambda d: status_of(d) == "waiting")

    edit = form_fields((await run(manager.get, f"/admin/cadences/{cadence}/edit")).content.decode(), "cadence-form")
    saved = await run(manager.post, f"/admin/cadences/{cadence}/edit", {**edit, "steps-1-wait": "2h",
                                                                        "apply_to": "new"})
    assert saved.status_code == 302
    doc = await get(manager, f"/admin/cadences/{cadence}/")
    assert doc.one("tr", data_version="2").get("data-applies-to") == "new"
    assert "applies only to enrollments started since" in doc.one(id="propagation").text
    assert [tr.find_all("td")[1].text for tr in doc.one(id="cadence-steps").find_all("tr",
                                                                                     data_step=True)][1] == "wait 2h"

    # visibility down and the workflow gone: counts say so, the rest comes from the store
    down = RPCError("visibility unavailable", RPCStatusCode.UNAVAILABLE, b"")
    with mock.patch.object(cadences_client, "counts", side_effect=down), \
            mock.patch.object(cadences_client, "list_enrollments", side_effect=down), \
            mock.patch.object(cadences_client, "get_enrollment", return_value=None):
        listed = (await get(manager, "/admin/cadences/")).one("tr", data_cadence=cadence)
        assert listed.one(class_="running").text == "unavailable"
        doc = await get(manager, f"/admin/cadences/{cadence}/")
        assert doc.find(id="counts-unavailable") is not None and doc.find(id="enrollments-from-store") is not None
        assert doc.one("tr", data_contact=contact_id(ann)).get("data-state") == "waiting"
        doc = await get(manager, page)
        assert "read from the store" in doc.text and status_of(doc) == "waiting"
        # its version's steps
        assert doc.one(id="steps-version").text == "1" and doc.one(id="current-step").text == "wait 1h"
        assert [tr.get("data-kind") for tr in doc.one(id="timeline").find_all("tr", data_kind=True)] == [
            "enrolled", "email_sent", "wait_started"]

    doc = await get(manager, page)  # live again: the edit never reached ann
    assert doc.one(id="steps-version").text == "1" and doc.one(id="wait-left").text.startswith("59m")
