"""The payload codec as a remote codec server for the Temporal UI and the `temporal` CLI.

Temporal's protocol: `POST .../decode` (and `.../encode`) with `{"payloads": [{"metadata":
{key: base64}, "data": base64}]}`, answered in the same shape. Payloads the shop sealed
(infra/payload_codec.py) come back opened; others come back as they were.

Who may read: a member of staff whose role has `ops:read` (owner, manager), signed in to the
admin (the session cookie), or an API token with the `ops:read` scope (`Authorization: Bearer`,
what `temporal --codec-endpoint ... --codec-auth "Bearer <token>"` sends). Anyone else gets
401/403 JSON. The Temporal UI's "pass access token" option sends the UI's own identity token,
which the shop does not know: configure the UI to include cross-origin credentials instead, so
the operator's admin session cookie goes with the call.

Browsers: CORS is granted to one origin, the Temporal UI's (`COMMERCE_TEMPORAL_UI_ORIGIN`,
by default that of `TEMPORAL_UI_URL`), with credentials, and answered on the preflight; every
other origin gets no CORS header, so its pages can never read what comes back. Django's CSRF
token cannot come from another origin's page, so this view is exempt from it and checks
instead: a call the session cookie identifies must name the UI's origin or the shop's own in
`Origin` (or carry the CSRF token), and the body must be `application/json`, which a
cross-origin page can only send after a preflight the shop refuses it. Decoding changes
nothing either way; the checks keep decoded payloads from anyone but staff.
"""

from __future__ import annotations

from enum import StrEnum

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from google.protobuf import json_format
from rest_framework.exceptions import APIException
from temporalio.api.common.v1 import Payloads

from domains.identity.roles import Permission, Scope
from infra.payload_codec import CodecError, EncryptionCodec, UnknownKeyError, load_keyring

from ... import services
from ...accounts.csrf import refusal
from ...accounts.tokens import BearerTokenAuthentication

PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse a granted preflight
ALLOWED_HEADERS = "Content-Type, Authorization, X-Namespace"


class CodecErrorCode(StrEnum):
    AUTHENTICATION_REQUIRED = "authentication_required"
    FORBIDDEN = "forbidden"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    CSRF_FAILED = "csrf_failed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID_PAYLOADS = "invalid_payloads"
    UNKNOWN_KEY = "unknown_key"
    UNREADABLE_PAYLOAD = "unreadable_payload"


def _json(request: HttpRequest, body: dict, status: int = 200) -> HttpResponse:
    return _cors(request, JsonResponse(body, status=status))


def _error(request: HttpRequest, code: CodecErrorCode, message: str, status: int) -> HttpResponse:
    return _json(request, {"code": code.value, "message": message}, status)


def _ui_origin() -> str:
    return services.settings.COMMERCE.codec_origin


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    response["Vary"] = "Origin"
    origin = request.headers.get("Origin")
    if origin and origin == _ui_origin():
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
    return response


def _refused(request: HttpRequest) -> HttpResponse | None:
    """401/403 unless staff with ops:read or a token with the ops:read scope sent this."""
    if "Authorization" in request.headers:
        try:
            found = BearerTokenAuthentication().authenticate(request)  # reads only the header
        except APIException as exc:
            return _error(request, CodecErrorCode.AUTHENTICATION_REQUIRED, str(exc.detail), 401)
        if found is None:  # an empty Authorization header
            return _error(request, CodecErrorCode.AUTHENTICATION_REQUIRED, "send `Authorization: Bearer <token>`",
                          401)
        client = found[1]
        if not client.has(Scope.OPS_READ):
            return _error(request, CodecErrorCode.INSUFFICIENT_SCOPE,
                          f"this token lacks the {Scope.OPS_READ.value} scope", 403)
        return None
    staff = getattr(request, "staff", None)
    if staff is None:
        return _error(request, CodecErrorCode.AUTHENTICATION_REQUIRED,
                      "sign in to the admin as staff, or send an API token with the ops:read scope", 401)
    if not staff.can(Permission.OPS_READ):
        return _error(request, CodecErrorCode.FORBIDDEN, f"your role lacks {Permission.OPS_READ.value}", 403)
    origin = request.headers.get("Origin")
    if origin != _ui_origin():  # the UI's origin is trusted here; anyone else: the API's CSRF rule
        why = refusal(request)
        if why is not None:
            return _error(request, CodecErrorCode.CSRF_FAILED, f"cross-site request refused: {why}", 403)
    return None


def _codec_view(direction: str):
    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        if request.method == "OPTIONS":  # the preflight: granted to the UI's origin alone
            response = _cors(request, HttpResponse(status=204))
            if "Access-Control-Allow-Origin" in response:
                response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
                response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
            return response
        if request.method != "POST":
            response = _json(request, {"code": "method_not_allowed", "message": "POST only"}, 405)
            response["Allow"] = "POST, OPTIONS"
            return response
        refused = _refused(request)
        if refused is not None:
            return refused
        if request.content_type != "application/json":
            return _error(request, CodecErrorCode.UNSUPPORTED_MEDIA_TYPE, "send the payloads as application/json",
                          415)
        try:
            payloads = json_format.Parse(request.body, Payloads())
        except (json_format.ParseError, ValueError, UnicodeDecodeError) as exc:
            return _error(request, CodecErrorCode.INVALID_PAYLOADS,
                          f'expected {{"payloads": [{{"metadata": {{...}}, "data": base64}}]}}: {exc}', 400)
        config = services.settings.COMMERCE
        codec = EncryptionCodec(load_keyring(config.codec_keys, config.data_dir), encrypt=config.codec_encrypt)
        try:
            if direction == "decode":
                out = [codec.decrypt(p) for p in payloads.payloads]
            else:  # plain while COMMERCE_CODEC_ENCRYPT=0: what the UI sends the workers must open too
                out = [codec.encrypt(p) if codec.encrypting else p for p in payloads.payloads]
        except CodecError as exc:
            code = CodecErrorCode.UNKNOWN_KEY if isinstance(exc, UnknownKeyError) else CodecErrorCode.UNREADABLE_PAYLOAD
            return _error(request, code, str(exc), 400)
        body = json_format.MessageToDict(Payloads(payloads=out))
        return _json(request, {"payloads": body.get("payloads", [])})

    view.__name__ = f"temporal_codec_{direction}"
    return view


decode = _codec_view("decode")
encode = _codec_view("encode")

