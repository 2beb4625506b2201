"""What may happen to a supplier order next: shared by the workflow and by the CLI, which
refuses an impossible step before it sends anything."""

from __future__ import annotations

from .messages import Strategy
from .messages import SupplierOrderStatus as S

# A person moves a manual supplier order forward; production may be skipped, shipping may not.
MANUAL_NEXT: dict[S, tuple[S, ...]] = {
    S.PENDING: (S.IN_PRODUCTION, S.SHIPPED),
    S.IN_PRODUCTION: (S.SHIPPED,),
    S.SHIPPED: (S.DELIVERED,),
}
BEFORE_SHIPPING = frozenset({S.PENDING, S.ACCEPTED, S.IN_PRODUCTION})


def next_manual(strategy: Strategy | None, status: S) -> list[S]:
    return list(MANUAL_NEXT.get(status, ())) if strategy == Strategy.MANUAL else []


def refusal(strategy: Strategy | None, status: S, target: S) -> str | None:
    """Why `target` cannot follow now, or None when it can."""
    if strategy != Strategy.MANUAL:
        return f"this supplier order is fulfilled {strategy.value if strategy else 'automatically'}, not by hand"
    if target not in MANUAL_NEXT.get(status, ()):
        allowed = ", ".join(s.value for s in MANUAL_NEXT.get(status, ())) or "nothing"
        return f"{target.value} cannot follow {status.value} (next: {allowed})"
    return None


def can_stop(status: S) -> bool:
    """Cancel and reject apply only before the goods leave."""
    return status in BEFORE_SHIPPING
