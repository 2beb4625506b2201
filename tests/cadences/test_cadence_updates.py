"""Saving new steps while enrollments run: each continues from where it stands (the issue's
"mid-run update": a shorter wait, an added step, a removed step), or keeps its version
when the change is for new enrollments only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from domains.cadences.client import CadenceError
from domains.cadences.messages import STALE_VERSION, UNKNOWN_STEP, ApplyTo, EnrollmentStatus
from domains.cadences.steps import StepType

from .conftest import DAY, send, settle, subjects, until, wait, wait_left

Status = EnrollmentStatus


def with_seconds(step, seconds: int):
    assert step.type == StepType.WAIT
    return step.model_copy(update={"seconds": seconds})


async def started(shop, steps, email="ann@example.com"):
    """A cadence with these steps and one contact enrolled, its first email sent."""
    cadence = await shop.create(steps)
    wid = await shop.enroll(cadence, email, "Ann")
    await until(lambda: len(mail.outbox) >= 1, what="the first email")
    return cadence, wid, shop.steps(cadence)


async def on_version(shop, wid, version: int):
    return await shop.until_view(wid, lambda v: v.steps_version == version, f"version {version} to arrive")


async def test_a_shorter_wait_counts_from_when_the_wait_began(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence, wid, (hello, pause, later) = await started(
        shop, [send("welcome", "Hello"), wait(3 * DAY), send("follow_up", "Later")])
    await skipping.sleep(timedelta(days=1))

    saved = await shop.save(cadence, [hello, with_seconds(pause, 2 * DAY), later], expected_version=1)
    assert saved.definition.version == 2
    assert [s.id for s in saved.definition.steps] == [hello.id, pause.id, later.id]  # the ids stay
    view = await on_version(shop, wid, 2)
    assert view.steps[1].seconds == 2 * DAY and view.current_step == 1
    assert DAY - 600 < await wait_left(skipping, view) <= DAY  # a day waited, a day to go
    await skipping.sleep(timedelta(hours=23))
    await settle()
    assert subjects(mailoutbox) == ["Hello"]
    await skipping.sleep(timedelta(hours=1, minutes=1))
    await until(lambda: len(mailoutbox) == 2, what="the follow-up on day 2")
    view = await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    first, second = [e.at for e in view.timeline if e.kind == "email_sent"]
    assert timedelta(days=2) <= second - first < timedelta(days=2, minutes=15)
    assert view.steps_version == 2 and any(e.kind == "steps_updated" for e in view.timeline)


async def test_a_wait_shortened_below_the_time_waited_ends_at_once(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence, _wid, (hello, pause, later) = await started(
        shop, [send("welcome", "Hello"), wait(3 * DAY), send("follow_up", "Later")])
    await skipping.sleep(timedelta(days=2))
    await settle()
    assert len(mailoutbox) == 1
    await shop.save(cadence, [hello, with_seconds(pause, DAY), later])
    await until(lambda: len(mailoutbox) == 2, what="the follow-up, without more time passing")
    assert subjects(mailoutbox) == ["Hello", "Later"]


async def test_a_step_added_after_the_position_is_sent_one_added_before_is_not(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence, wid, (hello, pause, later) = await started(
        shop, [send("welcome", "Hello"), wait(DAY), send("follow_up", "Later")])
    await skipping.sleep(timedelta(hours=2))
    saved = await shop.save(cadence, [send("review_request", "Before"), hello, pause,
                                      send("abandoned_cart", "Added"), later])
    added = [s.id for s in saved.definition.steps if s.id not in (hello.id, pause.id, later.id)]
    assert len(added) == 2 and len(set(added)) == 2  # new steps get new ids
    view = await on_version(shop, wid, 2)
    assert view.current_step == 2  # still on the wait, which moved one place down
    await skipping.sleep(timedelta(days=1))
    view = await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    assert subjects(mailoutbox) == ["Hello", "Added", "Later"]
    assert view.steps[0].id not in view.done  # the step before the position was never walked


async def test_a_removed_step_is_not_sent(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence, wid, (hello, pause, _middle, pause2, last) = await started(
        shop, [send("welcome", "Hello"), wait(DAY), send("follow_up", "Removed"), wait(DAY),
               send("review_request", "Last")])
    await skipping.sleep(timedelta(hours=2))
    await shop.save(cadence, [hello, pause, pause2, last])
    await on_version(shop, wid, 2)
    await skipping.sleep(timedelta(days=1, minutes=1))
    await settle()
    assert subjects(mailoutbox) == ["Hello"]  # the removed email did not go at the end of the first wait
    await skipping.sleep(timedelta(days=1, minutes=1))
    await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    assert subjects(mailoutbox) == ["Hello", "Last"]


async def test_removing_the_step_under_way_moves_to_the_next_surviving_step(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence, wid, (hello, _pause, later) = await started(
        shop, [send("welcome", "Hello"), wait(DAY), send("follow_up", "Later")])
    await skipping.sleep(timedelta(hours=2))
    await shop.save(cadence, [hello, later])  # the wait it is in is gone
    await until(lambda: len(mailoutbox) == 2, what="the next step, right away")
    view = await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    assert subjects(mailoutbox) == ["Hello", "Later"]
    assert "position moved" in next(e.detail for e in view.timeline if e.kind == "steps_updated")


async def test_a_change_for_new_enrollments_leaves_running_ones_alone(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence, old, (hello, pause, _later) = await started(
        shop, [send("welcome", "Hello"), wait(DAY), send("follow_up", "Old ending")])
    saved = await shop.save(cadence, [hello, pause, send("review_request", "New ending")], apply_to=ApplyTo.NEW)
    assert saved.definition.version == 2 and saved.propagation is None
    new = await shop.enroll(cadence, "bea@example.com", "Bea")
    await until(lambda: len(mailoutbox) == 2, what="the new enrollment's first email")
    await settle()
    assert (await shop.view(old)).steps_version == 1
    assert (await shop.view(new)).steps_version == 2
    await skipping.sleep(timedelta(days=1, minutes=1))
    for wid in (old, new):
        await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    endings = {m.to[0]: m.subject for m in mailoutbox if m.subject != "Hello"}
    assert endings == {"ann@example.com": "Old ending", "bea@example.com": "New ending"}


async def test_a_change_saved_for_new_enrollments_then_for_running_ones_reaches_them(cadence_shop, skipping,
                                                                                    mailoutbox):
    shop = cadence_shop
    cadence, old, (hello, pause, _later) = await started(
        shop, [send("welcome", "Hello"), wait(DAY), send("follow_up", "Old ending")])
    steps = [hello, pause, send("review_request", "New ending")]
    await shop.save(cadence, steps, apply_to=ApplyTo.NEW)
    steps = shop.steps(cadence)
    saved = await shop.save(cadence, steps, apply_to=ApplyTo.RUNNING)  # staff change their mind
    assert saved.definition.version == 3
    await on_version(shop, old, 3)
    await skipping.sleep(timedelta(days=1, minutes=1))
    await shop.until_view(old, lambda v: v.status == Status.COMPLETED, "completion")
    assert subjects(mailoutbox) == ["Hello", "New ending"]


async def test_a_sent_step_moved_after_the_position_is_not_sent_again(cadence_shop, skipping, mailoutbox):
    shop = cadence_shop
    cadence, wid, (hello, pause, later) = await started(
        shop, [send("welcome", "Hello"), wait(DAY), send("follow_up", "Later")])
    await skipping.sleep(timedelta(hours=2))
    await shop.save(cadence, [pause, hello, later])  # the sent welcome now comes after the wait
    view = await on_version(shop, wid, 2)
    assert view.current_step == 0
    await skipping.sleep(timedelta(days=1))
    await shop.until_view(wid, lambda v: v.status == Status.COMPLETED, "completion")
    assert subjects(mailoutbox) == ["Hello", "Later"]


async def test_a_stale_version_or_an_unknown_step_is_refused(cadence_shop, mailoutbox):
    shop = cadence_shop
    cadence = await shop.create([send("welcome", "Hello"), wait(DAY)])
    hello, pause = shop.steps(cadence)
    await shop.save(cadence, [hello, with_seconds(pause, 2 * DAY)], expected_version=1)
    with pytest.raises(CadenceError) as refused:
        await shop.save(cadence, [hello, with_seconds(pause, 3 * DAY)], expected_version=1)  # someone saved meanwhile
    assert refused.value.code == STALE_VERSION
    with pytest.raises(CadenceError) as refused:
        await shop.save(cadence, [hello, pause.model_copy(update={"id": "s99"})])
    assert refused.value.code == UNKNOWN_STEP
    assert shop.steps(cadence)[1].seconds == 2 * DAY  # neither refused save changed anything
    assert (await shop.save(cadence, [hello, pause])).definition.version == 3
