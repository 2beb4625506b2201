"""The admin order list's URL parameters: read into an `OrderQuery`, and written back into
links (filters, sorts, pages) so every link on the page carries the rest of the state.

Parameters: `status` (repeatable), `from` / `to` (a date, both days included, or a
date and time, `to` then exclusive; UTC), `customer` (an email, or a customer id such as
`guest:a@b.c`), `q` (confirmation code, email or name), `sort`, `page`, `per_page`, and
`after` (a cursor: the page continues after that order; pages past the first 10,000
orders are reached this way, since numbered pages stop there on both index backends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.http import QueryDict

from domains.orders.messages import OrderStatus
from projections.orders import MAX_WINDOW, OrderCursor, OrderQuery, OrderSort

LIST_URL = "/admin/orders/"
PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_TEXT = 200
RETURN_STATES = ("partially_returned", "returned")  # OrderView.return_state beside the status
SORT_LABELS = {OrderSort.NEWEST: "Newest first", OrderSort.OLDEST: "Oldest first",
               OrderSort.TOTAL_DESC: "Total, high to low", OrderSort.TOTAL_ASC: "Total, low to high",
               OrderSort.UPDATED: "Recently changed"}


class BadFilter(ValueError):
    """Parameters that cannot be understood; the message says which and why (a 400)."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ListParams:
    statuses: list[str] = field(default_factory=list)
    return_states: list[str] = field(default_factory=list)  # partially_returned, returned
    placed_from: str = ""  # as typed, for the form
    placed_to: str = ""
    customer: str = ""
    q: str = ""
    sort: OrderSort = OrderSort.NEWEST
    page: int = 1
    per_page: int = PER_PAGE
    after: str = ""

    def pairs(self, **changes) -> list[tuple[str, str]]:
        """The URL parameters (defaults left out), with `changes` applied (None removes one)."""
        values = {"status": self.statuses, "return_state": self.return_states, "from": self.placed_from,
                  "to": self.placed_to,
                  "customer": self.customer, "q": self.q, "sort": self.sort.value, "page": self.page,
                  "per_page": self.per_page, "after": self.after}
        values.update(changes)
        defaults = {"sort": OrderSort.NEWEST.value, "page": 1, "per_page": PER_PAGE}
        out: list[tuple[str, str]] = []
        for key, value in values.items():
            for v in value if isinstance(value, list) else [value]:
                if v is None or v == "" or defaults.get(key) == v:
                    continue
                out.append((key, str(v)))
        return out

    def url(self, **changes) -> str:
        query = urlencode(self.pairs(**changes))
        return f"{LIST_URL}?{query}" if query else LIST_URL

    def filter_url(self, **changes) -> str:
        """A link that changes the filters or sort: back to the first page, no cursor."""
        return self.url(page=None, after=None, **changes)

    @property
    def numbered_pages(self) -> int:
        """The last page a number can reach (offset paging stops at MAX_WINDOW orders)."""
        return MAX_WINDOW // self.per_page


def _int(params: QueryDict, name: str, default: int, low: int, high: int | None, problems: list[str]) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name} must be a whole number, not {raw[:20]!r}")
        return default
    if value < low or (high is not None and value > high):
        problems.append(f"{name} must be from {low}" + (f" to {high}" if high is not None else " up")
                        + f", not {value}")
        return default
    return value


def _instant(raw: str, name: str, *, end: bool, problems: list[str]) -> datetime | None:
    """A date (`to` includes that whole day) or a date and time, as UTC."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
            return day + timedelta(days=1) if end else day
        value = datetime.fromisoformat(raw)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: the last day of year 9999, shifted
        problems.append(f"{name} must be a date like 2025-03-01 (or 2025-03-01T14:30), not {raw[:40]!r}")
        return None


def parse(params: QueryDict) -> tuple[ListParams, OrderQuery]:
    """The list's state and the index query it means; BadFilter names every problem."""
    problems: list[str] = []
    known = {s.value for s in OrderStatus}
    statuses = list(dict.fromkeys(s.strip() for s in params.getlist("status") if s.strip()))
    unknown = [s for s in statuses if s not in known]
    if unknown:
        problems.append(f"unknown status {', '.join(repr(s[:30]) for s in unknown)} "
                        f"(one of {', '.join(s.value for s in OrderStatus)})")
    return_states = list(dict.fromkeys(s.strip() for s in params.getlist("return_state") if s.strip()))
    odd = [s for s in return_states if s not in RETURN_STATES]
    if odd:
        problems.append(f"unknown return state {', '.join(repr(s[:30]) for s in odd)} "
                        f"(one of {', '.join(RETURN_STATES)})")
    raw_sort = params.get("sort", "").strip() or OrderSort.NEWEST.value
    try:
        sort = OrderSort(raw_sort)
    except ValueError:
        problems.append(f"unknown sort {raw_sort[:30]!r} (one of {', '.join(s.value for s in OrderSort)})")
        sort = OrderSort.NEWEST
    state = ListParams(
        statuses=statuses, return_states=return_states, placed_from=params.get("from", "").strip(),
        placed_to=params.get("to", "").strip(),
        customer=params.get("customer", "").strip(), q=params.get("q", "").strip(), sort=sort,
        page=_int(params, "page", 1, 1, None, problems), per_page=_int(params, "per_page", PER_PAGE, 1, MAX_PER_PAGE,
                                                                        problems),
        after=params.get("after", "").strip())
    placed_from = _instant(state.placed_from, "from", end=False, problems=problems)
    placed_to = _instant(state.placed_to, "to", end=True, problems=problems)
    if placed_from and placed_to and placed_from >= placed_to:
        problems.append("from must come before to")
    for name, value in (("customer", state.customer), ("q", state.q)):
        if len(value) > MAX_TEXT:
            problems.append(f"{name} is longer than {MAX_TEXT} characters")
    after = None
    if state.after:
        try:
            after = OrderCursor.parse(state.after)
        except ValueError:
            problems.append("this page link is damaged (after=...); start again from the first page")
        else:
            if after.sort != sort:
                problems.append("this page link belongs to another sort; start again from the first page")
    elif state.page > state.numbered_pages:
        problems.append(f"page {state.page} is past the first {MAX_WINDOW:,} orders, where numbered pages end: "
                        f"go on with Next from page {state.numbered_pages}, flip the sort, or narrow the filters")
    if problems:
        raise BadFilter(problems)
    customer_id, email = None, None
    if state.customer:
        if "@" in state.customer and ":" not in state.customer:
            email = state.customer
        else:
            customer_id = state.customer
    query = OrderQuery(statuses=statuses, return_states=return_states, placed_from=placed_from, placed_to=placed_to,
                       customer_id=customer_id,
                       email=email, text=state.q or None, sort=sort, page=1 if after else state.page,
                       page_size=state.per_page, after=after if after and after.sort == sort else None)
    return state, query


def defaults_from(params: QueryDict) -> ListParams:
    """The form's values for a page whose parameters failed: what was typed, kept for correcting."""
    return ListParams(statuses=[s for s in params.getlist("status") if s in {x.value for x in OrderStatus}],
                      return_states=[s for s in params.getlist("return_state") if s in RETURN_STATES],
                      placed_from=params.get("from", "")[:40], placed_to=params.get("to", "")[:40],
                      customer=params.get("customer", "")[:MAX_TEXT], q=params.get("q", "")[:MAX_TEXT])


def pager(state: ListParams, total: int, shown: int, next_after: OrderCursor | None) -> dict:
    """Links for the pages around this one. Numbered pages (offsets) reach MAX_WINDOW
    orders; Next always works, from the cursor of this page's last order past that."""
    n = state.per_page
    start = (state.page - 1) * n
    last = max(1, -(-total // n))
    reachable = min(last, state.numbered_pages)
    numbers = sorted({p for p in (1, reachable, *range(state.page - 2, state.page + 3)) if 1 <= p <= reachable})
    links: list[dict | None] = []
    for p in numbers:
        if links and links[-1] is not None and links[-1]["page"] != p - 1:
            links.append(None)  # a gap: "…"
        links.append({"page": p, "url": state.url(page=p, after=None), "current": p == state.page})
    more = start + shown < total
    if not more or next_after is None:
        next_url = None
    elif not state.after and state.page + 1 <= state.numbered_pages:
        next_url = state.url(page=state.page + 1, after=None)
    else:
        next_url = state.url(page=state.page + 1, after=next_after.token())
    prev_url = state.url(page=state.page - 1, after=None) if 1 < state.page <= state.numbered_pages + 1 else None
    return {"first": start + 1 if shown else 0, "last": start + shown, "total": total, "links": links,
            "prev": prev_url, "next": next_url, "first_url": state.url(page=None, after=None),
            "beyond_numbers": total > MAX_WINDOW, "window": MAX_WINDOW, "numbered_pages": state.numbered_pages}
