"""Every API error is JSON `{code, message}` with a 4xx/5xx status and a stable code."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from ..api_error import ApiError

__all__ = ["ApiError", "exception_handler", "first_error", "invalid_parameter", "validated_body"]


def validated_body(serializer, request) -> dict:
    """The request body checked by a DRF serializer; a bad one raises the 400 `invalid_parameter`."""
    checked = serializer(data=request.data)
    checked.is_valid(raise_exception=True)
    return checked.validated_data


def invalid_parameter(parameter: str, message: str) -> ApiError:
    return ApiError("invalid_parameter", f"{parameter}: {message}", parameter=parameter)


def first_error(detail: Any, path: str = "") -> tuple[str, str]:
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        # a list field's errors are keyed by item index: keep naming the parameter
        return first_error(value, key if isinstance(key, str) and key != "non_field_errors" else path)
    if isinstance(detail, list) and detail:
        return first_error(detail[0], path)
    return path, str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApiError):
        return Response({"code": exc.error_code, "message": str(exc.detail), **exc.extra}, status=exc.status_code)
    if isinstance(exc, ValidationError):
        parameter, message = first_error(exc.detail)
        body = {"code": "invalid_parameter", "message": f"{parameter}: {message}" if parameter else message}
        if parameter:
            body["parameter"] = parameter
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    response = drf_handler(exc, context)
    if response is not None:
        code = getattr(exc, "default_code", "error")
        detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
        response.data = {"code": code, "message": str(detail)}
    return response
