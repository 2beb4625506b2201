"""Page numbers and links for the admin lists (inventory, carts, catalog)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode


def page_number(raw: str | None, *, last: int = 10_000) -> int:
    """The `page` parameter as a page number; anything that is not one means the first page."""
    try:
        return min(max(int(raw or 1), 1), last)
    except ValueError:
        return 1


@dataclass(frozen=True)
class Pager:
    page: int
    page_size: int
    total: int
    params: dict = field(default_factory=dict)  # the list's other parameters, kept in every link

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.page_size

    def _url(self, page: int) -> str:
        return "?" + urlencode({**{k: v for k, v in self.params.items() if v not in ("", None)}, "page": page})

    @property
    def prev_url(self) -> str | None:
        return self._url(self.page - 1) if self.page > 1 else None

    @property
    def next_url(self) -> str | None:
        return self._url(self.page + 1) if self.page < self.pages else None
