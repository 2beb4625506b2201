"""The search projection port: a product index that can be rebuilt aside and switched.

Readers always query the live index (an alias). A rebuild creates a new generation,
fills it, then switches the alias in one step; while it runs, incremental updates go to
both the live and the building generation so none is lost by the switch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from .documents import ProductDocument
from .query import SearchQuery, SearchResult


class SearchUnavailable(Exception):
    """The index cannot answer (not built yet, or the engine is down)."""


class ProductIndex(ABC):
    backend: str = ""

    @abstractmethod
    def ensure(self) -> None:
        """Create the live index if there is none, so reads and writes work from the start."""

    @abstractmethod
    def upsert(self, docs: Iterable[ProductDocument]) -> int:
        """Write documents to the live index (and to a rebuild in progress)."""

    @abstractmethod
    def delete(self, product_ids: Iterable[str]) -> None: ...

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abstractmethod
    def count(self) -> int: ...

    # --- rebuild aside, then switch -------------------------------------------------

    @abstractmethod
    def begin_rebuild(self) -> str:
        """Create an empty generation and mark it as building; returns its name."""

    @abstractmethod
    def write_generation(self, generation: str, docs: Iterable[ProductDocument]) -> int:
        """Bulk-write into one generation (the rebuild's bulk path)."""

    @abstractmethod
    def finish_rebuild(self, generation: str) -> None:
        """Point the live alias at the generation in one step and drop older ones."""

    @abstractmethod
    def live_generation(self) -> str | None: ...

    def layout_current(self) -> bool:
        """Whether the live index has the layout this version writes and reads; an index built
        by an older version is rebuilt from the store (`load_catalog --if-empty` does it)."""
        return True

    @abstractmethod
    def ping(self) -> None:
        """Raise when the engine cannot answer."""

    def close(self) -> None:  # noqa: B027 (optional hook: an adapter overrides it when it needs to)
        pass
