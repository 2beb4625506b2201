"""Admin cadence pages: the list, new and edit forms, one cadence with its live counts and
history, one enrollment with its timeline. The POST actions (enroll, pause/resume/cancel,
unsubscribe) are in actions.py; urls.py routes both.

Saving goes through the cadence's workflow (`domains.cadences.client.save_cadence`) as the
signed-in staff member; bad forms come back as 400 with the reason, a save that lost a race
with another as 409, and nothing a person types ends in a 500.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_http_methods

from domains.cadences import client as cadences
from domains.cadences import reads
from domains.cadences.client import CadenceError
from domains.cadences.messages import CADENCE_NOT_FOUND, STALE_VERSION, ApplyTo
from domains.identity.roles import Permission

from ... import services
from ...accounts.access import staff_required
from ...cadence_email import template_names
from ..common import notices
from . import data, forms
from .render import detail_page, enrollment_page, form_page, list_page, no_cadence

# domain refusal -> status (everything else the domain refuses about a form is a 400)
REFUSALS = {STALE_VERSION: 409, CADENCE_NOT_FOUND: 404}


@require_GET
@staff_required(Permission.CADENCES_READ)
def cadence_list(request: HttpRequest) -> HttpResponse:
    return list_page(request)


# --- new and edit ----------------------------------------------------------------------------

def _save(request: HttpRequest, definition=None) -> HttpResponse:
    templates = template_names()
    form, steps = forms.bound(request.POST, templates, editing=definition is not None)
    try:
        wanted = forms.save_request(form, steps, request.staff.actor)
        saved = services.temporal().run(lambda client: cadences.save_cadence(
            client, wanted, cadence_id=definition.cadence_id if definition else None, templates=templates))
    except forms.FormInvalid as exc:
        return form_page(request, form, steps, definition=definition, status=400, problems=exc.problems,
                         code="invalid_form")
    except CadenceError as exc:
        return form_page(request, form, steps, definition=definition, status=REFUSALS.get(exc.code, 400),
                         problems=[str(exc)], code=data.snake(exc.code))
    d = saved.definition
    notice = f"Saved {d.name!r}, version {d.version}."
    if definition is not None and d.steps != definition.steps:
        notice += (" Running enrollments take the new steps from where they are." if wanted.apply_to == ApplyTo.RUNNING
                   else " Running enrollments keep the steps they had.")
    notices.notify(request, notice)
    return HttpResponseRedirect(data.cadence_url(d.cadence_id))


@staff_required(Permission.CADENCES_WRITE)
@require_http_methods(["GET", "POST"])
def cadence_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request)
    form, steps = forms.blank(template_names())
    return form_page(request, form, steps)


@staff_required(Permission.CADENCES_WRITE)
@require_http_methods(["GET", "POST"])
def cadence_edit(request: HttpRequest, cadence: str) -> HttpResponse:
    definition = reads.cadence(services.store(), cadence)
    if definition is None:
        return no_cadence(request, cadence)
    if request.method == "POST":
        return _save(request, definition)
    form, steps = forms.for_edit(definition, template_names())
    return form_page(request, form, steps, definition=definition)


# --- one cadence, one enrollment -------------------------------------------------------------

@require_GET
@staff_required(Permission.CADENCES_READ)
def cadence_detail(request: HttpRequest, cadence: str) -> HttpResponse:
    return detail_page(request, cadence)


@require_GET
@staff_required(Permission.CADENCES_READ)
def enrollment(request: HttpRequest, cadence: str, contact: str) -> HttpResponse:
    return enrollment_page(request, cadence, contact)

