"""Webhook endpoints (owners and managers): the list with each endpoint's success rate and a
form to register one (its secret shown once, in that response only), and an endpoint's page
with its deliveries, latest attempts and audit trail (who registered, disabled, enabled,
rotated it), where staff ping it, disable or enable it, rotate its secret, delete it, and
redeliver an event."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from domains.identity.roles import Permission
from domains.webhooks import client as webhooks
from domains.webhooks.errors import WebhookError, WebhookErrorCode
from domains.webhooks.messages import EventType

from ... import services
from ...accounts.access import staff_required
from ..common import notices

EVENT_TYPES = [t.value for t in EventType if t != EventType.PING]
NOT_FOUND = {WebhookErrorCode.ENDPOINT_NOT_FOUND, WebhookErrorCode.EVENT_NOT_FOUND}


def _list_page(request: HttpRequest, status: int = 200, error: str | None = None, created: dict | None = None,
               form: dict | None = None) -> HttpResponse:
    store = services.store()
    rows = [{"endpoint": e, **webhooks.success_rate(store, e.endpoint_id, limit=200)}
            for e in webhooks.list_endpoints(store)]
    return render(request, "admin_panel/webhooks.html", {
        "rows": rows, "event_types": EVENT_TYPES, "error": error, "created": created, "form": form or {},
        "can_write": request.staff.can(Permission.WEBHOOKS_WRITE)}, status=status)


@staff_required(Permission.WEBHOOKS_READ)
@require_http_methods(["GET", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list_page(request)
    if not request.staff.can(Permission.WEBHOOKS_WRITE):
        return _list_page(request, 403, "Your role may see webhooks but not register them.")
    form = {"url": request.POST.get("url", "").strip(), "events": request.POST.getlist("events"),
            "description": request.POST.get("description", "").strip()[:200]}
    try:
        made = webhooks.register_endpoint(services.store(), form["url"], form["events"],
                                          created_by=request.staff.actor, description=form["description"])
    except WebhookError as exc:
        return _list_page(request, 400, str(exc), form=form)
    # Shown once, in this response only (no redirect, so not in a session; no cache keeps it).
    response = _list_page(request, 201, created={"id": made.endpoint.endpoint_id, "secret": made.secret})
    response["Cache-Control"] = "no-store"
    return response


def _endpoint_page(request: HttpRequest, endpoint_id: str, status: int = 200,
                   error: str | None = None, rotated: str | None = None) -> HttpResponse:
    store = services.store()
    try:
        endpoint = webhooks.get_endpoint(store, endpoint_id)
    except WebhookError as exc:
        return render(request, "admin_panel/webhooks.html", {
            "rows": [], "event_types": EVENT_TYPES, "error": str(exc), "form": {}, "can_write": False}, status=404)
    return render(request, "admin_panel/webhook.html", {
        "endpoint": endpoint, "deliveries": webhooks.deliveries(store, endpoint_id)[-100:],
        "attempts": webhooks.attempts(store, endpoint_id, limit=50),
        "summary": webhooks.success_rate(store, endpoint_id, limit=200), "error": error, "rotated": rotated,
        "audit": webhooks.audit_log(store, endpoint_id, limit=20),
        "can_write": request.staff.can(Permission.WEBHOOKS_WRITE)}, status=status)


@staff_required(Permission.WEBHOOKS_READ)
@require_http_methods(["GET", "POST"])
def endpoint(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    if request.method == "GET":
        return _endpoint_page(request, endpoint_id)
    if not request.staff.can(Permission.WEBHOOKS_WRITE):
        return _endpoint_page(request, endpoint_id, 403, "Your role may see webhooks but not change them.")
    store, action = services.store(), request.POST.get("action", "")
    try:
        if action == "ping":
            event_id = services.temporal().run(lambda client: webhooks.ping(client, store, endpoint_id))
            notice = f"Ping {event_id} queued."
        elif action == "rotate":  # the new secret is shown once, in this response only
            rotated = webhooks.rotate_secret(store, endpoint_id, actor=request.staff.actor)
            response = _endpoint_page(request, endpoint_id, rotated=rotated)
            response["Cache-Control"] = "no-store"
            return response
        elif action in ("disable", "enable"):
            webhooks.set_active(store, endpoint_id, action == "enable", actor=request.staff.actor)
            notice = f"Endpoint {action}d."
        elif action == "delete":
            gone = webhooks.delete_endpoint(store, endpoint_id, actor=request.staff.actor)
            notices.notify(request, f"Endpoint {endpoint_id} ({gone.url}) deleted.")
            return HttpResponseRedirect("/admin/webhooks/")
        elif action == "redeliver":
            event_id = request.POST.get("event_id", "").strip()
            services.temporal().run(lambda client: webhooks.redeliver(client, store, event_id, endpoint_id))
            notice = f"{event_id} queued again."
        else:
            return _endpoint_page(request, endpoint_id, 400, f"Unknown action {action!r}.")
    except WebhookError as exc:
        return _endpoint_page(request, endpoint_id, 404 if exc.code in NOT_FOUND else 400, str(exc))
    notices.notify(request, notice)
    return HttpResponseRedirect(f"/admin/webhooks/{endpoint_id}/")
