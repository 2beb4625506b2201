"""`Idempotency-Key` on mutating calls: a retry gets the first response, not a second effect.

The first request with a key claims it (a conditional insert), runs, and stores its
response; a later request with the same key and scope gets that response back, or a 409
while the first is still running.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from domains.store import schema

from .. import services
from .errors import ApiError

HEADER = "Idempotency-Key"


def idempotent(request: Request, scope: str, run: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return run()
    if len(key) > 200:
        raise ApiError("invalid_parameter", f"{HEADER}: at most 200 characters", parameter=HEADER)
    store = services.store()
    scope = f"{scope}:{request.method}:{request.path}"
    row = {"scope": scope, "key": key, "state": "in_progress", "created_at": datetime.now(UTC)}
    if not store.insert_if_absent(schema.IDEMPOTENCY.name, row):
        first = store.get(schema.IDEMPOTENCY.name, {"scope": scope, "key": key})
        if first["state"] != "done":
            raise ApiError("request_in_progress", "a request with this Idempotency-Key is still running",
                           status.HTTP_409_CONFLICT)
        response = Response(first["body"], status=first["status"])
        response["Idempotent-Replayed"] = "true"
        return response
    try:
        response = run()
    except ApiError as exc:
        body = {"code": exc.error_code, "message": str(exc.detail), **exc.extra}
        store.put(schema.IDEMPOTENCY.name, {"scope": scope, "key": key, "state": "done",
                                            "status": exc.status_code, "body": body})
        raise
    except Exception:
        store.delete(schema.IDEMPOTENCY.name, {"scope": scope, "key": key})  # nothing happened: retry freely
        raise
    store.put(schema.IDEMPOTENCY.name, {"scope": scope, "key": key, "state": "done",
                                        "status": response.status_code, "body": response.data})
    return response
