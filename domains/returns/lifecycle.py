"""Which return status may follow which. A refused move names both states."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from .errors import ReturnErrorCode
from .messages import ReturnStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.LABEL_ISSUED}),  # at once: the label is issued as the return is approved
    S.REJECTED: frozenset(),
    S.LABEL_ISSUED: frozenset({S.IN_TRANSIT, S.RECEIVED, S.EXPIRED}),  # a parcel may arrive before its number
    S.IN_TRANSIT: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.EXPIRED: frozenset(),
}


def can_move(current: S, target: S) -> bool:
    return target in ALLOWED[current]


def check_move(current: S, target: S, action: str) -> None:
    if not can_move(current, target):
        raise ApplicationError(f"cannot {action} a return that is {current.value}: it cannot go from "
                               f"{current.value} to {target.value}", {"from": current.value, "to": target.value},
                               type=ReturnErrorCode.ILLEGAL_TRANSITION, non_retryable=True)
