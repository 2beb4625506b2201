"""`GET /healthz`: can this process reach Temporal, the store and the index?"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from . import services


def _check(fn) -> dict:
    try:
        fn()
        return {"ok": True}
    except Exception as exc:  # any failure means unreachable; report it
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _temporal() -> None:
    async def check(client):
        await client.service_client.check_health(timeout=timedelta(seconds=3))

    services.temporal().run(check, timeout=5)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    config = services.settings.COMMERCE
    checks = {
        "temporal": {**_check(_temporal), "address": config.temporal_address},
        "store": {**_check(lambda: services.store().ping()), "backend": config.store_backend},
        "search": {**_check(lambda: services.index().ping()), "backend": config.search_backend},
    }
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)
