"""The Operations view: task queues, their workers and workflows, and one workflow in depth.

Everything comes from Temporal itself (visibility counts and lists, describe, history) through
`infra.temporal_ops` (no Django; imported here as `ops_data`); this module only parses the request
and renders. Read-only: nothing here changes a workflow, so there are no forms to protect beyond
GET filters.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from domains.identity.roles import Permission
from domains.queues import ALL as QUEUES
from infra import temporal_ops as ops_data
from infra.temporal_ops import BadFilter, ClusterHealth, WorkflowFilter, WorkflowPage

from ... import services
from ...accounts.access import staff_required
from ...unavailable import UNAVAILABLE

LIST_SIZE = 50  # workflows per page of the list, unless ?limit= (up to MAX_LIST_SIZE) asks otherwise
MAX_LIST_SIZE = 500
EVENTS_PER_PAGE = 200  # history rows per page of the workflow page


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "admin_panel/ops_error.html", {"title": title, "message": message}, status=status)


# Visibility page tokens are opaque server state; a garbled one is answered with an internal
# error that the SDK retries for seconds. So the link carries the token signed together
# with the query it belongs to, and anything else is refused here.
_PAGE_SALT = "admin-ops-workflow-page"


def _token_in(text: str, query: str) -> bytes | None:
    if not text:
        return None
    try:
        signed = signing.loads(text, salt=_PAGE_SALT)
        if signed["q"] != query:
            raise ValueError
        return base64.urlsafe_b64decode(signed["t"])
    except (signing.BadSignature, ValueError, KeyError, TypeError, binascii.Error):
        raise BadFilter("that page link is not valid for this filter; start from the first page") from None


def _token_out(token: bytes | None, query: str) -> str:
    if not token:
        return ""
    return signing.dumps({"t": base64.urlsafe_b64encode(token).decode(), "q": query}, salt=_PAGE_SALT)


def _limit(text: str) -> int:
    if not text.strip():
        return LIST_SIZE
    if not re.fullmatch(r"[0-9]+", text.strip()) or not 1 <= int(text) <= MAX_LIST_SIZE:
        raise BadFilter(f"limit must be a whole number from 1 to {MAX_LIST_SIZE}")
    return int(text)


def _queues(request: HttpRequest) -> list[str]:
    """`?queue=a&queue=b` or `?queue=a,b`, in order, without repeats."""
    names = [v.strip() for value in request.GET.getlist("queue") for v in value.split(",")]
    return list(dict.fromkeys(n for n in names if n))


@require_GET
@staff_required(Permission.OPS_READ)
def overview(request: HttpRequest) -> HttpResponse:
    """Per task queue: workflows running, closed in the last hour, and the workers polling it;
    then the most recent workflows, filtered by queue, status, type or id prefix."""
    chosen = _queues(request)  # also any queue not in the registry (tests use their own)
    filters = WorkflowFilter(queues=chosen, status=request.GET.get("status", "").strip(),
                             workflow_type=request.GET.get("type", "").strip(),
                             id_prefix=request.GET.get("id", "").strip())
    try:
        query = filters.query()  # refuse a bad filter before asking anything
        token = _token_in(request.GET.get("page", ""), query)
        limit = _limit(request.GET.get("limit", ""))
    except BadFilter as exc:
        return _error(request, 400, "Bad filter", str(exc))
    queues = list(QUEUES)  # every domain's task queue
    queues += [q for q in chosen if q not in queues]
    now = datetime.now(UTC)
    config = services.settings.COMMERCE
    # The server's own health first: while it is down the page says so (and what the error was)
    # instead of a bare 503, and nothing else is asked.
    try:
        cluster = services.temporal().run(ops_data.cluster_health)
    except UNAVAILABLE as exc:  # not even a connection
        cluster = ClusterHealth(address=config.temporal_address, serving=False,
                                error=f"{type(exc).__name__}: {exc}"[:300])
    health: list[ops_data.QueueHealth] = []
    page = WorkflowPage(rows=[], next_page_token=None)
    unavailable = ""  # the server answers its health check but not the queue and visibility reads
    if cluster.serving:
        try:
            health, page = services.temporal().run(lambda client: ops_data.overview(
                client, queues, filters, limit=limit, page_token=token, now=now))
        except BadFilter as exc:
            return _error(request, 400, "Bad filter", str(exc))
        except UNAVAILABLE as exc:
            unavailable = f"{type(exc).__name__}: {exc}"[:300]
    kept = [("queue", q) for q in chosen] + [(k, v) for k, v in (
        ("status", filters.status), ("type", filters.workflow_type), ("id", filters.id_prefix),
        ("limit", str(limit) if limit != LIST_SIZE else "")) if v]
    older = urlencode([*kept, ("page", _token_out(page.next_page_token, query))]) if page.next_page_token else ""
    return render(request, "admin_panel/ops.html", {
        "cluster": cluster, "unavailable": unavailable,
        "health": health, "now": now, "window_minutes": int(ops_data.WINDOW.total_seconds() // 60),
        "totals": {"running": sum(h.running for h in health), "completed": sum(h.completed for h in health),
                   "failed": sum(h.failed for h in health), "no_worker": sum(1 for h in health if h.no_worker)},
        "page": page, "older": older, "newest": urlencode(kept) if token is not None else None,
        "filters": filters, "filtered": bool(kept), "statuses": ops_data.STATUSES,
        "queue_value": ", ".join(chosen), "known_queues": queues,
        "namespace": config.temporal_namespace, "temporal_ui": config.temporal_ui_url,
    })


def temporal_ui_link(base: str, namespace: str, workflow_id: str, run_id: str) -> str:
    """The run's history in the Temporal UI (`TEMPORAL_UI_URL`, as operators' browsers reach it)."""
    ns, wid, run = (quote(part, safe="") for part in (namespace, workflow_id, run_id))
    return f"{base}/namespaces/{ns}/workflows/{wid}/{run}/history"


@require_GET
@staff_required(Permission.OPS_READ)
def workflow_page(request: HttpRequest, workflow_id: str) -> HttpResponse:
    """One workflow run: what it waits on (activities, timers, children) and its history."""
    run_id = request.GET.get("run_id", "").strip() or None
    try:
        page = int(request.GET.get("page", "1"))
        if page < 1:
            raise ValueError
    except ValueError:
        return _error(request, 400, "Bad page", "page must be a whole number from 1")
    try:
        detail = services.temporal().run(lambda client: ops_data.workflow_detail(client, workflow_id, run_id))
    except BadFilter as exc:
        return _error(request, 400, "Bad run id", str(exc))
    if detail is None:
        which = f"run {run_id} of workflow" if run_id else "workflow"
        namespace = services.settings.COMMERCE.temporal_namespace
        return _error(request, 404, "No such workflow",
                      f"Temporal has no {which} “{workflow_id}” in namespace {namespace}.")
    show_tasks = request.GET.get("tasks") == "1"  # workflow-task events are noise unless debugging
    events = [e for e in detail.events if show_tasks or e.category != "task" or e.failed]
    pages = max(1, -(-len(events) // EVENTS_PER_PAGE))
    page = min(page, pages)
    config = services.settings.COMMERCE
    base = {"run_id": detail.run_id, **({"tasks": "1"} if show_tasks else {})}
    return render(request, "admin_panel/ops_workflow.html", {
        "wf": detail, "events": events[(page - 1) * EVENTS_PER_PAGE:page * EVENTS_PER_PAGE],
        "hidden_tasks": len(detail.events) - len(events), "show_tasks": show_tasks,
        "page": page, "pages": pages,
        "prev_link": urlencode({**base, "page": page - 1}) if page > 1 else "",
        "next_link": urlencode({**base, "page": page + 1}) if page < pages else "",
        "toggle_tasks": urlencode({"run_id": detail.run_id, **({} if show_tasks else {"tasks": "1"})}),
        "temporal_ui": temporal_ui_link(config.temporal_ui_url, detail.namespace, detail.id, detail.run_id),
        "max_events": ops_data.MAX_EVENTS,
    })

