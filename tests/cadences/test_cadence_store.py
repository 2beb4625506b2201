"""The cadences' activities against each write store (SQLite, and Cassandra when the engines
run): versions newest first, one rendering and one send per step key, unsubscribes that stop
sends, and the enrollment rows the admin and an edit's propagation read."""

from __future__ import annotations

from datetime import UTC, datetime

from domains.cadences import reads
from domains.cadences.activities import CadenceActivities
from domains.cadences.client import contact_of
from domains.cadences.messages import (
    CadenceDefinition,
    EnrollmentRecord,
    EnrollmentState,
    EnrollmentStatus,
    RenderRequest,
    TimelineEntry,
    Unsubscribe,
)
from domains.cadences.steps import Step, StepType
from storefront.cadence_email import DjangoEmailChannel

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def definition(version: int, subject: str) -> CadenceDefinition:
    return CadenceDefinition(
        cadence_id="c0ffee01", name="Welcome", version=version, created_at=NOW, created_by="staff:a@example.com",
        updated_at=NOW, updated_by=f"staff:v{version}@example.com",
        steps=[Step(id="s1", type=StepType.SEND_EMAIL, template="welcome", subject=subject),
               Step(id="s2", type=StepType.WAIT, seconds=60)])


def render_request(key: str, email: str, name: str = "Ann") -> RenderRequest:
    return RenderRequest(key=key, cadence_id="c0ffee01", cadence_name="Welcome", step_id="s1", template="welcome",
                         subject="Hi {{ name }}", contact=contact_of(email, name))


def test_versions_are_kept_newest_first_and_the_list_shows_the_latest(store):
    activities = CadenceActivities(store, None, None)
    activities.save_cadence(definition(1, "first"))
    activities.save_cadence(definition(2, "second"))
    (latest,) = reads.cadences(store)
    assert (latest.version, latest.steps[0].subject) == (2, "second")
    assert [row["version"] for row in reads.versions(store, "c0ffee01")] == [2, 1]
    assert reads.versions(store, "c0ffee01")[1]["saved_by"] == "staff:v1@example.com"


def test_a_step_is_rendered_once_and_sent_once(store, mailoutbox):
    activities = CadenceActivities(store, None, DjangoEmailChannel(store))
    first = activities.render_email(render_request("k1:s1", "ann@example.com", "Ann O'Brien & Co"))
    again = activities.render_email(render_request("k1:s1", "ann@example.com", "someone else"))
    assert first.message_id == again.message_id and first.subject == "Hi Ann O'Brien & Co"
    sent = activities.send_email("k1:s1")
    repeat = activities.send_email("k1:s1")
    assert sent.sent_at is not None and not sent.already_sent
    assert repeat.already_sent and repeat.sent_at == sent.sent_at
    (mail,) = mailoutbox
    assert mail.subject == "Hi Ann O'Brien & Co" and mail.extra_headers["Message-ID"] == first.message_id
    assert mail.body.startswith("Hello Ann O'Brien & Co,")  # plain text: nothing HTML-escaped
    assert "/shop/unsubscribe/" in mail.body and mail.extra_headers["List-Unsubscribe"].startswith("<http")


def test_an_unsubscribed_contact_gets_nothing_even_when_already_rendered(store, mailoutbox):
    activities = CadenceActivities(store, None, DjangoEmailChannel(store))
    activities.render_email(render_request("k2:s1", "bo@example.com"))
    result = activities.record_unsubscribe(Unsubscribe(email="Bo@Example.com", source="link"))
    assert reads.unsubscribed(store, "bo@example.com")["source"] == "link"
    assert activities.send_email("k2:s1").suppressed
    assert activities.render_email(render_request("k3:s1", "bo@example.com")).suppressed
    assert mailoutbox == []
    again = activities.record_unsubscribe(Unsubscribe(email="bo@example.com", source="one-click"))
    assert again.unsubscribed_at == result.unsubscribed_at  # the first unsubscribe is the one kept


def test_enrollment_rows_and_timeline(store):
    activities = CadenceActivities(store, None, None)
    contact = contact_of("cy@example.com", "Cy")
    state = EnrollmentState(cadence_id="c0ffee01", contact=contact, enrollment_key="key-1", enrolled_at=NOW,
                            steps=definition(1, "x").steps, steps_version=1, current_step=1, done=["s1"],
                            status=EnrollmentStatus.WAITING)
    entries = [TimelineEntry(seq=1, at=NOW, kind="enrolled"), TimelineEntry(seq=2, at=NOW, kind="email_sent",
                                                                            step_id="s1")]
    activities.save_enrollment(EnrollmentRecord(state=state, workflow_id="cadence-c0ffee01-x", entries=entries))
    row = reads.enrollment(store, "c0ffee01", contact.contact_id)
    assert (row["status"], row["step_id"], row["email"]) == ("waiting", "s2", "cy@example.com")
    assert [e["kind"] for e in reads.timeline(store, "key-1")] == ["enrolled", "email_sent"]
    (mine,) = reads.enrollments_of_contact(store, contact.contact_id)
    assert (mine["cadence_id"], mine["status"]) == ("c0ffee01", "waiting")
