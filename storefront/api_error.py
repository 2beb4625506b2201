"""The API's error exception, on its own so that storefront/accounts (token authentication) can
raise it without importing storefront/api (which imports accounts). `storefront.api.errors`
renders it as JSON `{code, message}`."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException


class ApiError(APIException):
    """An error with a stable machine-readable code; extra fields go into the body."""

    def __init__(self, code: str, message: str, http_status: int = status.HTTP_400_BAD_REQUEST, **extra: Any):
        super().__init__(message, code)
        self.status_code = http_status
        self.error_code = code
        self.extra = extra
