"""Admin catalog: the products in the search index, and rebuilding the index from the store."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from domains.catalog.client import start_reindex
from domains.identity.roles import Permission
from projections.search import SearchQuery
from projections.search.query import MAX_RESULT_WINDOW, Sort

from ... import services
from ...accounts.access import require, staff_required
from ...shop.browse import money
from ...unavailable import UNAVAILABLE
from ..common import notices
from ..common.paging import Pager, page_number
from .data import reindex_progress

log = logging.getLogger(__name__)

PAGE_SIZE_CATALOG = 25


def _products(text: str, page: int) -> tuple[list[dict], Pager] | None:
    query = SearchQuery(q=text, page=page, page_size=PAGE_SIZE_CATALOG, sort=Sort.RELEVANCE if text else Sort.NAME)
    try:
        result = services.index().search(query)
    except Exception:  # the page still renders (with the reindex control) when search is down
        log.exception("catalog search failed")
        return None
    rows = [{"hit": h, "price": money(h.price.amount, h.price.currency),
             "collections": ", ".join(c.get("name", "") for c in h.collections)} for h in result.hits]
    reachable = min(result.total, MAX_RESULT_WINDOW)  # the index serves no deeper than this
    return rows, Pager(page=page, page_size=PAGE_SIZE_CATALOG, total=reachable, params={"q": text})


def _progress_or_error():
    try:
        return reindex_progress(), None
    except UNAVAILABLE as exc:
        log.warning("reindex status unavailable: %s", exc)
        return None, "The reindex status is unavailable: Temporal did not answer."


@require_GET
@staff_required(Permission.CATALOG_READ)
def catalog_list(request: HttpRequest) -> HttpResponse:
    text = " ".join(request.GET.get("q", "").split())[:200]
    page = page_number(request.GET.get("page"), last=MAX_RESULT_WINDOW // PAGE_SIZE_CATALOG)
    products = _products(text, page)
    progress, progress_error = _progress_or_error()
    try:
        indexed, generation = services.index().count(), services.index().live_generation()
    except Exception:  # same as above
        indexed, generation = None, None
    return render(request, "admin_panel/catalog.html", {
        "q": text, "products": products[0] if products else None, "pager": products[1] if products else None,
        "indexed": indexed, "generation": generation, "progress": progress, "progress_error": progress_error,
        "can_reindex": request.staff.can(Permission.CATALOG_WRITE)})


@require_POST
@staff_required(Permission.CATALOG_READ)
def catalog_reindex(request: HttpRequest) -> HttpResponse:
    if (refused := require(request, Permission.CATALOG_WRITE)) is not None:
        return refused
    actor = request.staff.actor
    handle = services.temporal().run(lambda client: start_reindex(client, started_by=actor))
    log.info("reindex %s (run %s) requested by %s", handle.id, handle.result_run_id, actor)
    notices.notify(request, "Reindex started: the index is rebuilt aside, then readers switch to it.")
    return HttpResponseRedirect("/admin/catalog/")


@require_GET
@staff_required(Permission.CATALOG_READ)
def catalog_reindex_status(request: HttpRequest) -> HttpResponse:
    """The progress display polls this while a rebuild runs."""
    progress, error = _progress_or_error()
    if error:
        return JsonResponse({"code": "service_unavailable", "message": error}, status=503,
                            headers={"Retry-After": "5"})
    return JsonResponse({"reindex": progress.as_json() if progress else None})
