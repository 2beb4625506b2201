"""Staff acting on an enrollment in the instant it starts: the action holds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from domains.cadences import client as cadences
from domains.cadences.messages import EnrollmentStatus

from .conftest import send, wait


async def view_when(shop, cadence_id: str, contact_id: str, predicate, seconds: float = 10):
    for _ in range(int(seconds / 0.1)):
        view = await cadences.get_enrollment(shop.client, cadence_id, contact_id)
        if view is not None and predicate(view):
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"enrollment never matched; last: {view}")


async def test_a_cancel_right_after_enrolling_is_not_undone_when_the_cadence_loads(cadence_shop, skipping,
                                                                                      mailoutbox):
    cadence_id = await cadence_shop.create([wait(60), send("welcome", "Hello")])
    contact = cadences.contact_of("quick@example.com")
    await cadence_shop.enroll(cadence_id, contact.email)
    await cadences.cancel(cadence_shop.client, cadence_id, contact.contact_id, "staff:test", "changed my mind")
    view = await view_when(cadence_shop, cadence_id, contact.contact_id, lambda v: v.steps_version == 1)
    assert view.status == EnrollmentStatus.CANCELLED and "changed my mind" in view.ended_reason
    await skipping.sleep(timedelta(minutes=5))
    assert mailoutbox == []


async def test_a_pause_right_after_enrolling_holds_the_first_email(cadence_shop, skipping, mailoutbox):
    cadence_id = await cadence_shop.create([wait(60), send("welcome", "Hello")])
    contact = cadences.contact_of("paused@example.com")
    await cadence_shop.enroll(cadence_id, contact.email)
    await cadences.pause(cadence_shop.client, cadence_id, contact.contact_id, "staff:test")
    view = await view_when(cadence_shop, cadence_id, contact.contact_id, lambda v: v.steps_version == 1)
    assert view.status == EnrollmentStatus.PAUSED
    await skipping.sleep(timedelta(hours=1))
    assert mailoutbox == []
    await cadences.resume(cadence_shop.client, cadence_id, contact.contact_id, "staff:test")
    await skipping.sleep(timedelta(minutes=2))
    await view_when(cadence_shop, cadence_id, contact.contact_id, lambda v: v.status == EnrollmentStatus.COMPLETED)
    assert [m.subject for m in mailoutbox] == ["Hello"]
