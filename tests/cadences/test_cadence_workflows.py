"""Enrollments walking a cadence on the time-skipping server: the right emails at the right
times, one enrollment per contact, pause/resume/cancel, a missing template, continue-as-new,
and unsubscribing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.client import CadenceError
from domains.cadences.ids import contact_id, send_key
from domains.cadences.messages import (
    ALREADY_ENROLLED,
    ENROLLMENT_ENDED,
    ENROLLMENT_NOT_FOUND,
    UNSUBSCRIBED,
    EnrollmentStatus,
)
from storefront.email_links import email_of_unsubscribe

from .conftest import DAY, HOUR, send, settle, subjects, until, wait, wait_left

Status = EnrollmentStatus


def emails_sent(view) -> list:
    return [e for e in view.timeline if e.kind == "email_sent"]


async def activity_attempts(handle) -> list[tuple[str, int]]:
    """(activity type, attempt) of every activity the workflow started, from its history."""
    names, started = {}, []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            started.append((names[attrs.scheduled_event_id], attrs.attempt))
    return started


async def test_three_steps_send_the_right_emails_at_the_right_times(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence = await shop.create([send("welcome", "Welcome, {{ name }}!"), wait(DAY),
                                 send("follow_up", "How is it going, {{ name }}?")])
    wid = await shop.enroll(cadence, "Ann@Example.com", "Ann")

    await until(lambda: len(mailoutbox) == 1, what="the welcome email")
    await skipping.sleep(timedelta(hours=23))
    await settle()
    assert len(mailoutbox) == 1  # not a minute early
    view = await shop.view(wid)
    assert view.status == Status.WAITING and 0 < await wait_left(skipping, view) <= HOUR

    await skipping.sleep(timedelta(hours=1, minutes=1))
    await until(lambda: len(mailoutbox) == 2, what="the follow-up")
    view = await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    assert view.current_step == 3 and view.steps_version == 1
    assert subjects(mailoutbox) == ["Welcome, Ann!", "How is it going, Ann?"]
    first, second = emails_sent(view)
    assert timedelta(days=1) <= second.at - first.at < timedelta(days=1, minutes=2)
    for message in mailoutbox:
        assert message.to == ["ann@example.com"]
        assert "Hello Ann" in message.body
        link = message.extra_headers["List-Unsubscribe"].strip("<>")
        assert link in message.body  # the same link at the bottom of the email
        assert email_of_unsubscribe(link.rsplit("/", 1)[1]) == "ann@example.com"
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    await shop.closed(wid)  # its last save is done
    row = reads.enrollment(shop.store, cadence, contact_id("ann@example.com"))
    assert (row["status"], row["current_step"], row["steps_version"], row["workflow_id"]) == \
        ("completed", 3, 1, wid)
    stored = reads.timeline(shop.store, row["enrollment_key"])
    assert [(r["seq"], r["kind"], r["step_id"]) for r in stored] == \
        [(e.seq, e.kind, e.step_id) for e in view.timeline]
    assert [e.kind for e in view.timeline] == [
        "enrolled", "email_sent", "wait_started", "wait_finished", "email_sent", "completed"]


async def test_a_contact_is_enrolled_once_at_a_time_and_again_after_the_end(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence = await shop.create([send("welcome", "Hi {{ name }}"), wait(HOUR), send("follow_up", "Still there?")])
    wid = await shop.enroll(cadence, "bob@example.com", "Bob")
    await until(lambda: len(mailoutbox) == 1, what="the first email")
    for same in ("bob@example.com", "  BOB@Example.COM "):
        with pytest.raises(CadenceError) as refused:
            await shop.enroll(cadence, same, "Bob")
        assert refused.value.code == ALREADY_ENROLLED
    first_key = reads.enrollment(shop.store, cadence, contact_id("bob@example.com"))["enrollment_key"]

    await skipping.sleep(timedelta(hours=1, minutes=1))
    await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    await shop.closed(wid)
    assert await shop.enroll(cadence, "bob@example.com", "Bob") == wid  # a new enrollment, same id
    await until(lambda: len(mailoutbox) == 3, what="the welcome email again")
    assert subjects(mailoutbox) == ["Hi Bob", "Still there?", "Hi Bob"]
    view = await shop.until_view(wid, lambda v: v.status == Status.WAITING, "the new enrollment's wait")
    assert len(emails_sent(view)) == 1  # its own timeline
    row = await until(lambda: reads.enrollment(shop.store, cadence, contact_id("bob@example.com")),
                      what="the new row")
    assert row["enrollment_key"] != first_key


async def test_pause_stops_the_wait_clock_and_resume_restarts_it(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence = await shop.create([send("welcome", "One"), wait(2 * HOUR), send("follow_up", "Two")])
    wid = await shop.enroll(cadence, "cy@example.com")
    contact = contact_id("cy@example.com")
    await until(lambda: len(mailoutbox) == 1, what="the first email")
    # the clock is skipped from the wait's start (the email reaches the outbox a moment before)
    await shop.until_view(wid, lambda v: v.status == Status.WAITING, "the wait")
    await skipping.sleep(timedelta(hours=1))

    paused = await cadences.pause(shop.client, cadence, contact, "staff:ann@example.com")
    assert paused.status == Status.PAUSED
    assert HOUR - 120 < paused.wait_seconds_left <= HOUR
    await skipping.sleep(timedelta(hours=5))
    await settle()
    assert len(mailoutbox) == 1  # paused: five hours later, still nothing
    view = await shop.view(wid)
    assert view.status == Status.PAUSED and HOUR - 120 < view.wait_seconds_left <= HOUR

    resumed = await cadences.resume(shop.client, cadence, contact, "staff:ann@example.com")
    assert resumed.status == Status.WAITING
    await skipping.sleep(timedelta(minutes=55))
    await settle()
    assert len(mailoutbox) == 1  # the hour left is not over
    await skipping.sleep(timedelta(minutes=7))
    await until(lambda: len(mailoutbox) == 2, what="the second email")
    view = await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    at = {e.kind: e.at for e in view.timeline}
    # the hour that was left, counted from the resume (give or take the clocks' milliseconds)
    assert timedelta(minutes=59, seconds=59) < emails_sent(view)[1].at - at["resumed"] < timedelta(hours=1, minutes=2)
    assert [e.detail for e in view.timeline if e.kind in ("paused", "resumed")] == ["staff:ann@example.com"] * 2


async def test_cancel_ends_the_enrollment(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence = await shop.create([send("welcome", "One"), wait(DAY), send("follow_up", "Two")])
    wid = await shop.enroll(cadence, "dee@example.com")
    contact = contact_id("dee@example.com")
    await until(lambda: len(mailoutbox) == 1, what="the first email")
    await skipping.sleep(timedelta(hours=2))

    view = await cadences.cancel(shop.client, cadence, contact, "staff:bo@example.com", reason="asked by phone")
    assert view.status == Status.CANCELLED
    assert view.ended_reason == "asked by phone (staff:bo@example.com)"
    await skipping.sleep(timedelta(days=2))
    await settle()
    assert len(mailoutbox) == 1
    await shop.closed(wid)
    row = reads.enrollment(shop.store, cadence, contact)
    assert (row["status"], row["ended_reason"]) == ("cancelled", "asked by phone (staff:bo@example.com)")
    with pytest.raises(CadenceError) as refused:
        await cadences.cancel(shop.client, cadence, contact, "staff:bo@example.com")
    assert refused.value.code in (ENROLLMENT_ENDED, ENROLLMENT_NOT_FOUND)


async def test_a_cancel_while_an_email_is_being_sent_still_ends_the_enrollment(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence = await shop.create([send("welcome", "One"), wait(HOUR), send("follow_up", "Two")])
    shop.channel.release.clear()  # the mail server is slow to accept the first email
    wid = await shop.enroll(cadence, "ida@example.com")
    await until(shop.channel.sending.is_set, what="the send to begin")
    view = await cadences.cancel(shop.client, cadence, contact_id("ida@example.com"), "staff:bo@example.com")
    assert view.status == Status.CANCELLED
    shop.channel.release.set()
    await until(lambda: len(mailoutbox) == 1, what="the email under way")  # it had left already
    await shop.closed(wid)
    await skipping.sleep(timedelta(hours=2))
    await settle()
    view = await shop.view(wid)
    assert view.status == Status.CANCELLED and subjects(mailoutbox) == ["One"]
    assert reads.enrollment(shop.store, cadence, contact_id("ida@example.com"))["status"] == "cancelled"


async def test_a_pause_while_an_email_is_being_sent_holds_the_next_steps(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence = await shop.create([send("welcome", "One"), wait(HOUR), send("follow_up", "Two")])
    shop.channel.release.clear()
    wid = await shop.enroll(cadence, "jo@example.com")
    contact = contact_id("jo@example.com")
    await until(shop.channel.sending.is_set, what="the send to begin")
    await cadences.pause(shop.client, cadence, contact, "staff:bo@example.com")
    shop.channel.release.set()
    await until(lambda: len(mailoutbox) == 1, what="the email under way")
    await shop.until_view(wid, lambda v: v.status == Status.PAUSED, "paused after the send")
    await skipping.sleep(timedelta(hours=3))
    await settle()
    assert len(mailoutbox) == 1 and (await shop.view(wid)).status == Status.PAUSED
    await cadences.resume(shop.client, cadence, contact, "staff:bo@example.com")
    await skipping.sleep(timedelta(hours=1, minutes=1))
    await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    assert subjects(mailoutbox) == ["One", "Two"]


async def test_a_missing_template_fails_the_enrollment_without_retrying(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    # saved without the template check, as if the template was deleted after saving
    cadence = await shop.create([send("welcome", "Hi"), wait(HOUR), send("no_such_template", "Gone"),
                                 send("follow_up", "After")])
    wid = await shop.enroll(cadence, "eve@example.com")
    await until(lambda: len(mailoutbox) == 1, what="the first email")
    await skipping.sleep(timedelta(hours=1, minutes=1))
    view = await shop.until_view(wid, lambda v: v.status == Status.FAILED, "the failure", timeout=10)
    assert "no_such_template" in view.ended_reason
    await skipping.sleep(timedelta(days=1))
    await settle()
    assert subjects(mailoutbox) == ["Hi"]  # nothing after the failed step either
    await shop.closed(wid)
    renders = [attempt for name, attempt in await activity_attempts(shop.client.get_workflow_handle(wid))
               if name == "render_email"]
    assert renders == [1, 1]  # the welcome, then the missing template once: no retries
    assert reads.enrollment(shop.store, cadence, contact_id("eve@example.com"))["status"] == "failed"


async def test_a_long_enrollment_continues_as_new_with_its_state(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence = await shop.create([send("welcome", "One"), wait(HOUR), send("follow_up", "Two"), wait(HOUR),
                                 send("review_request", "Three")])
    wid = await shop.enroll(cadence, "fay@example.com", max_steps_per_run=2)
    await until(lambda: len(mailoutbox) == 1, what="email one")
    for n in (2, 3):
        await skipping.sleep(timedelta(hours=1, minutes=1))
        await until(lambda: len(mailoutbox) == n, what=f"email {n}")  # noqa: B023 (awaited in this iteration)
    view = await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    await shop.closed(wid)
    assert subjects(mailoutbox) == ["One", "Two", "Three"]
    assert view.current_step == 5 and len(view.done) == 5
    assert [e.seq for e in view.timeline] == list(range(1, len(view.timeline) + 1))  # nothing lost across runs
    assert view.timeline[0].kind == "enrolled" and len(emails_sent(view)) == 3

    runs, run_id = 0, (await shop.client.get_workflow_handle(wid).describe()).run_id
    while run_id:  # walk back from the last run to the first
        runs += 1
        async for event in shop.client.get_workflow_handle(wid, run_id=run_id).fetch_history_events():
            run_id = event.workflow_execution_started_event_attributes.continued_execution_run_id
            break
    assert runs == 3  # send+wait, send+wait, send
    row = reads.enrollment(shop.store, cadence, contact_id("fay@example.com"))
    stored = reads.timeline(shop.store, row["enrollment_key"])
    assert [r["seq"] for r in stored] == [e.seq for e in view.timeline]


async def test_unsubscribe_ends_every_enrollment_of_the_contact(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    a = await shop.create([send("welcome", "A1"), wait(DAY), send("follow_up", "A2")], name="A")
    b = await shop.create([send("welcome", "B1"), wait(2 * DAY), send("follow_up", "B2")], name="B")
    other = await shop.enroll(a, "someone.else@example.com")
    wids = [await shop.enroll(cadence, "gus@example.com", "Gus") for cadence in (a, b)]
    await until(lambda: len(mailoutbox) == 3, what="the first emails")

    result = await cadences.unsubscribe(shop.client, "Gus@Example.com", "link")
    assert result.contact_id == contact_id("gus@example.com")
    for wid in wids:
        view = await shop.until_view(wid, lambda v: v.status == Status.CANCELLED, "the enrollment to end")
        assert "unsubscribed" in view.ended_reason
    await skipping.sleep(timedelta(days=3))
    await until(lambda: len(mailoutbox) == 4, what="the other contact's follow-up")
    await settle()
    assert sorted(m.subject for m in mailoutbox if m.to == ["gus@example.com"]) == ["A1", "B1"]
    await shop.until_view(other, lambda v: v.status == Status.COMPLETED, "the other to complete")  # only Gus's ended
    with pytest.raises(CadenceError) as refused:
        await shop.enroll(a, "gus@example.com")
    assert refused.value.code == UNSUBSCRIBED
    for cadence, wid in zip((a, b), wids, strict=True):
        await shop.closed(wid)
        assert reads.enrollment(shop.store, cadence, contact_id("gus@example.com"))["status"] == "cancelled"


async def test_an_email_rendered_before_the_unsubscribe_is_not_sent_after_it(cadence_shop, mailoutbox):
    shop = cadence_shop
    shop.channel.failing = True  # the mail server is down: the email waits, rendered, for a retry
    cadence = await shop.create([send("welcome", "Hello {{ name }}")])
    wid = await shop.enroll(cadence, "hal@example.com", "Hal")
    row = await until(lambda: reads.enrollment(shop.store, cadence, contact_id("hal@example.com")),
                      what="the enrollment row")
    first = shop.steps(cadence)[0]
    key = send_key(row["enrollment_key"], first.id, first.template, first.subject)
    await until(lambda: shop.channel.failures >= 1 and reads.outbox(shop.store, key), what="a failed send")

    await cadences.unsubscribe(shop.client, "hal@example.com")
    shop.channel.failing = False  # the mail server is back: only the re-check stops the email now
    view = await shop.until_view(wid, lambda v: v.status.ended, "the end")
    await shop.closed(wid)  # the send activity has finished its last attempt
    assert view.status == Status.CANCELLED and "unsubscribed" in view.ended_reason
    assert mailoutbox == []
    assert reads.outbox(shop.store, key).get("sent_at") is None
    # the retrying send was cancelled with the enrollment (the send activity's own re-check of
    # the unsubscribe list is in test_cadence_store.py)


async def test_a_cancel_stops_a_send_that_is_still_retrying(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    shop.channel.failing = True  # the mail server is down: the send retries with backoff
    cadence = await shop.create([send("welcome", "Hello")])
    wid = await shop.enroll(cadence, "ida@example.com")
    await until(lambda: shop.channel.failures >= 1, what="a failed send")
    await cadences.cancel(shop.client, cadence, contact_id("ida@example.com"), "staff:test", "stop")
    shop.channel.failing = False  # the server is back: nothing may go out now
    await shop.closed(wid)
    await skipping.sleep(timedelta(hours=1))
    await settle()
    assert mailoutbox == []


async def test_a_pause_holds_a_retrying_send_until_resumed_and_it_goes_once(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    shop.channel.failing = True
    cadence = await shop.create([send("welcome", "Hello")])
    wid = await shop.enroll(cadence, "jo@example.com")
    await until(lambda: shop.channel.failures >= 1, what="a failed send")
    await cadences.pause(shop.client, cadence, contact_id("jo@example.com"), "staff:test")
    shop.channel.failing = False
    await skipping.sleep(timedelta(hours=1))
    await settle()
    assert mailoutbox == []
    await cadences.resume(shop.client, cadence, contact_id("jo@example.com"), "staff:test")
    view = await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completed")
    assert [m.subject for m in mailoutbox] == ["Hello"]
    assert [e.kind for e in view.timeline].count("email_sent") == 1
