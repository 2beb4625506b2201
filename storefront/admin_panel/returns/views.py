"""Admin return pages: the list (the order index's return documents,
`domains.returns.reads.search_returns`, filtered by status, reason and age) and one return
(live from its workflow, the store once it has closed) with the actions the signed-in role may
take. Every action is a CSRF-protected POST that redirects back with a notice; a refused one
re-renders the return with the reason."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from domains.identity.roles import Permission
from domains.labels import label
from domains.returns import reads
from domains.returns.errors import ReturnError
from domains.returns.messages import ReturnReason, ReturnStatus, ReturnView
from projections.search import SearchUnavailable

from ... import return_staff, services
from ...accounts.access import require, staff_required
from ...shop.browse import money
from ..common import notices
from . import actions

PER_PAGE = 50
MAX_AGE_DAYS = 3650


def return_url(return_id: str) -> str:
    return f"/admin/returns/{return_id}"


def _filters(params) -> tuple[dict, list[str]]:
    problems: list[str] = []
    status = params.get("status", "").strip()
    if status and status not in {s.value for s in ReturnStatus}:
        problems.append(f"unknown status {status[:30]!r}")
        status = ""
    reason = params.get("reason", "").strip()
    if reason and reason not in {r.value for r in ReturnReason}:
        problems.append(f"unknown reason {reason[:30]!r}")
        reason = ""
    raw_age = params.get("min_age_days", "").strip()
    age = None
    if raw_age:
        try:
            age = int(raw_age)
        except ValueError:
            problems.append(f"age must be a whole number of days, not {raw_age[:20]!r}")
        else:
            if not 0 <= age <= MAX_AGE_DAYS:
                problems.append(f"age must be from 0 to {MAX_AGE_DAYS} days")
                age = None
    cursor = params.get("cursor", "").strip()
    if cursor and not cursor.isdigit():
        problems.append("this page link is damaged; start again from the first page")
        cursor = ""
    return {"status": status, "reason": reason, "min_age_days": age, "cursor": cursor[:9]}, problems


def _row(view: ReturnView) -> dict:
    return {"view": view, "url": return_url(view.return_id), "units": sum(li.quantity for li in view.lines),
            "reasons": sorted({label("return_reason", li.reason) for li in view.lines}),
            "refund": money(view.refund_amount, view.currency) if view.refund_amount else ""}


@require_GET
@staff_required(Permission.ORDERS_READ)
def return_list(request: HttpRequest) -> HttpResponse:
    chosen, problems = _filters(request.GET)
    context = {"chosen": chosen, "statuses": [s.value for s in ReturnStatus],
               "reasons": [(r.value, label("return_reason", r.value)) for r in ReturnReason],
               "problems": problems}
    if problems:
        return render(request, "admin_panel/returns.html", context, status=400)
    try:
        rows, cursor = reads.search_returns(services.store(), services.order_index(),
                                            status=chosen["status"] or None, reason=chosen["reason"] or None,
                                            min_age_days=chosen["min_age_days"], limit=PER_PAGE,
                                            cursor=chosen["cursor"] or None)
    except SearchUnavailable as exc:  # as the order list: the index is down, the page says so
        response = render(request, "admin_panel/returns.html", {**context, "problems": [str(exc)]}, status=503)
        response["Retry-After"] = "5"
        return response
    keep = {k: v for k, v in chosen.items() if v not in ("", None) and k != "cursor"}
    return render(request, "admin_panel/returns.html", {
        **context, "rows": [_row(v) for v in rows], "listed": True, "filtered": bool(keep),
        "next_url": f"/admin/returns/?{urlencode({**keep, 'cursor': cursor})}" if cursor else None,
        "first_url": f"/admin/returns/?{urlencode(keep)}" if chosen["cursor"] else None})


def _not_found(request: HttpRequest, return_id: str) -> HttpResponse:
    return render(request, "admin_panel/return_missing.html", {"reference": return_id[:100]}, status=404)


def _load(return_id: str) -> ReturnView | None:
    try:
        return return_staff.view(return_id.strip()[:100])
    except ReturnError:
        return None


def _context(view: ReturnView, staff) -> dict:
    c = view.currency
    may_write = staff.can(Permission.RETURNS_WRITE)
    return {
        "view": view,
        "lines": [{"line": li, "unit": money(li.unit_price, c), "reason": label("return_reason", li.reason)}
                  for li in view.lines],
        "refund": money(view.refund_amount, c), "fee": money(view.restocking_fee, c),
        "history": view.history,
        "difference": money(abs(view.exchange_difference), c), "charged": money(view.exchange_charged, c),
        "needs_method": view.exchange_difference > 0 and not view.exchange_charged,
        "exchanged": any(li.exchange_variant_id for li in view.lines),
        "replacement_label": label("supplier_status", view.replacement.status) if view.replacement else "",
        "can": {"approve": may_write and view.can_approve, "reject": may_write and view.can_reject,
                "in_transit": may_write and view.can_mark_in_transit, "receive": may_write and view.can_receive,
                "refund": may_write and view.can_refund and return_staff.may_refund(view, staff.role.value),
                "refund_waits": may_write and view.can_refund and not return_staff.may_refund(view, staff.role.value)},
    }


def _page(request: HttpRequest, view: ReturnView, *, status: int = 200, error: actions.Refused | None = None,
          typed: dict | None = None) -> HttpResponse:
    return render(request, "admin_panel/return.html",
                  {**_context(view, request.staff), "error": error, "typed": typed or {}}, status=status)


@require_GET
@staff_required(Permission.ORDERS_READ)
def return_page(request: HttpRequest, return_id: str) -> HttpResponse:
    view = _load(return_id)  # Temporal down: the middleware's 503
    if view is None:
        return _not_found(request, return_id)
    if return_id != view.return_id:
        return HttpResponseRedirect(return_url(view.return_id))
    return _page(request, view)


def _action(permission: Permission, act):
    """A POST view: signed in, allowed, the return exists; then `act(view, staff, POST)`."""

    @require_POST
    @staff_required()
    def post(request: HttpRequest, return_id: str) -> HttpResponse:
        denied = require(request, permission)
        if denied is not None:
            return denied
        view = _load(return_id)
        if view is None:
            return _not_found(request, return_id)
        try:
            notices.notify(request, act(view, request.staff, request.POST))
        except actions.Refused as refused:
            typed = {"form": act.__name__, **{k: request.POST.get(k, "")[:2000] for k in request.POST
                                              if k != "csrfmiddlewaretoken"}}
            return _page(request, _load(return_id) or view, status=refused.status, error=refused, typed=typed)
        return HttpResponseRedirect(return_url(view.return_id))

    post.staff_permission = permission
    return post


return_approve = _action(Permission.RETURNS_WRITE, actions.approve)
return_reject = _action(Permission.RETURNS_WRITE, actions.reject)
return_in_transit = _action(Permission.RETURNS_WRITE, actions.in_transit)
return_receive = _action(Permission.RETURNS_WRITE, actions.receive)
return_refund = _action(Permission.RETURNS_WRITE, actions.refund)
