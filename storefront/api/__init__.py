"""The JSON APIs (DRF)."""

from . import schema_auth  # noqa: F401  registers the API token scheme with drf-spectacular
