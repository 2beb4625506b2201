"""What staff do to enrollments from the admin: enroll a pasted list, pause / resume /
cancel one enrollment, unsubscribe an address. Each calls the same domain function as the
API and the CLI, as `request.staff.actor`.

Enrolling answers on the cadence page itself (one outcome per pasted line) rather than
through a redirect: the outcomes of a long list do not fit in the cookie session, and
posting the same list again is harmless (everyone in it is "already enrolled").
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.client import CadenceError
from domains.cadences.messages import CADENCE_NOT_FOUND, ENROLLMENT_NOT_FOUND
from domains.identity.roles import Permission
from domains.labels import label

from ... import services
from ...accounts.access import staff_required
from ..common import notices
from . import data
from .render import detail_page, enrollment_page, list_page, missing, no_cadence

MAX_PASTE = 100_000  # characters: comfortably 500 lines of `Name <email>`
ENROLL_SECONDS = 120  # a long list starts hundreds of workflows
MAX_REASON = 300


@require_POST
@staff_required(Permission.CADENCES_ENROLL)
def enroll(request: HttpRequest, cadence: str) -> HttpResponse:
    store = services.store()
    definition = reads.cadence(store, cadence)
    if definition is None:
        return no_cadence(request, cadence)
    text = request.POST.get("contacts", "")

    def refused(status: int, message: str) -> HttpResponse:
        return detail_page(request, cadence, status=status, enroll_error=message, pasted=text[:MAX_PASTE])

    if len(text) > MAX_PASTE:
        return refused(400, f"Paste at most {MAX_PASTE:,} characters at once.")
    lines = cadences.parse_contacts(text)
    if not lines:
        return refused(400, "Paste one contact a line: an email address, `email, name` or `Name <email>`.")
    if not definition.active:
        return refused(409, f"{definition.name!r} is not active: activate it (edit) before enrolling anyone.")
    try:
        outcomes = services.temporal().run(lambda client: cadences.enroll_many(
            client, store, cadence, lines, actor=request.staff.actor),
            timeout=ENROLL_SECONDS, within_budget=False)
    except CadenceError as exc:
        return refused(400, str(exc))
    rows = data.per_line(lines, outcomes)
    enrolled = sum(1 for r in rows if r["result"] == "enrolled")
    return detail_page(request, cadence, outcomes=rows,
                       enroll_notice=f"Enrolled {enrolled} of {len(rows)} pasted line{'s' if len(rows) != 1 else ''}.")


ACTIONS = {"pause": (cadences.pause, "Paused"), "resume": (cadences.resume, "Resumed"),
           "cancel": (cadences.cancel, "Cancelled")}


@require_POST
@staff_required(Permission.CADENCES_ENROLL)
def enrollment_action(request: HttpRequest, cadence: str, contact: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        return missing(request, f"There is no enrollment action {action[:20]!r}: pause, resume or cancel.")
    store = services.store()
    if reads.cadence(store, cadence) is None:
        return no_cadence(request, cadence)
    if not data.known_contact(contact):
        return missing(request, "This contact has no enrollment in this cadence.")
    change, done = ACTIONS[action]
    args = [cadence, contact, request.staff.actor]
    if action == "cancel":
        args.append(request.POST.get("reason", "").strip()[:MAX_REASON])
    try:
        view = services.call(change, *args)
    except CadenceError as exc:  # an enrollment that has ended comes back as EnrollmentEnded
        if exc.code in (ENROLLMENT_NOT_FOUND, CADENCE_NOT_FOUND):
            return missing(request, "This contact has no enrollment in this cadence.")
        return enrollment_page(request, cadence, contact, status=409, error=f"Cannot {action}: {exc}.",
                               code=data.snake(exc.code))
    now = label("enrollment_status", view.status).lower()
    notices.notify(request, f"{done} the enrollment of {view.contact.email} (now {now}).")
    return HttpResponseRedirect(data.enrollment_url(cadence, contact))


@require_POST
@staff_required(Permission.CADENCES_ENROLL)
def unsubscribe(request: HttpRequest) -> HttpResponse:
    email = request.POST.get("email", "").strip()
    if not email:
        return list_page(request, status=400, error="Enter the email address to unsubscribe.")
    try:
        # Unsubscribe.source holds at most 100 characters; a staff actor is "staff:<email>"
        services.temporal().run(lambda client: cadences.unsubscribe(
            client, email, source=request.staff.actor[:100]))
    except CadenceError as exc:
        return list_page(request, status=400, error=str(exc), email=email[:254])
    notices.notify(request,
                   f"{email.lower()} is unsubscribed: no more cadence emails; their running enrollments end now.")
    return HttpResponseRedirect("/admin/cadences/")
