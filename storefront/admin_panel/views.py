"""Staff pages. Read-only until staff sign-in exists: nothing here changes the shop."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from domains.catalog.client import reindex_status
from domains.catalog.loader import catalog_loaded

from .. import services


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    index = services.index()
    try:
        indexed, generation = index.count(), index.live_generation()
    except Exception:  # noqa: BLE001 - the page still renders when search is down
        indexed, generation = None, None
    try:
        reindex = services.temporal().run(lambda client: reindex_status(client), timeout=5)
    except Exception:  # noqa: BLE001 - nor when Temporal is
        reindex = None
    return render(request, "admin_panel/dashboard.html", {
        "catalog": catalog_loaded(services.store()), "indexed": indexed, "generation": generation,
        "reindex": reindex, "config": services.settings.COMMERCE,
    })
