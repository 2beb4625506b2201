"""The catalog reindex for the admin pages: the domain reads it from Temporal
(`domains.catalog.reindex_progress`), within the web process's time limit."""

from __future__ import annotations

from domains.catalog.reindex_progress import ReindexProgress, latest_reindex

from ... import services

STATUS_TIMEOUT = 5


def reindex_progress() -> ReindexProgress | None:
    """The latest reindex, or None when there never was one."""
    return services.temporal().run(latest_reindex, timeout=STATUS_TIMEOUT)
