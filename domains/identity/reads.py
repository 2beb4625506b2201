"""What the web process reads from the write store: identity's rows, as the models the
workflows saved. Sign-in checks a password against these; every signed-in request
re-reads its account here, so a disabled account or a changed password takes effect at once."""

from __future__ import annotations

from datetime import datetime

from infra.store import Store, schema

from .ids import account_id
from .messages import AuditEntry, ShopperState, StaffState, TokenState


def shopper(store: Store, shopper_id: str) -> ShopperState | None:
    row = store.get(schema.SHOPPERS.name, {"shopper_id": shopper_id})
    return ShopperState.model_validate(row) if row and row.get("registered_at") else None


def shopper_by_email(store: Store, email: str) -> ShopperState | None:
    return shopper(store, account_id(email))


def staff(store: Store, staff_id: str) -> StaffState | None:
    row = store.get(schema.STAFF_USERS.name, {"shop": schema.SHOP, "staff_id": staff_id})
    return StaffState.model_validate(row) if row and row.get("created_at") else None


def staff_by_email(store: Store, email: str) -> StaffState | None:
    return staff(store, account_id(email))


def all_staff(store: Store) -> list[StaffState]:
    rows = store.query(schema.STAFF_USERS.name, {"shop": schema.SHOP})
    return sorted((StaffState.model_validate(r) for r in rows if r.get("created_at")), key=lambda s: s.email)


def active_owners(store: Store) -> list[StaffState]:
    return [s for s in all_staff(store) if s.active and s.role == "owner"]


def token(store: Store, token_id: str) -> TokenState | None:
    row = store.get(schema.API_TOKENS.name, {"shop": schema.SHOP, "token_id": token_id})
    return TokenState.model_validate(row) if row and row.get("created_at") else None


def all_tokens(store: Store) -> list[TokenState]:
    rows = store.query(schema.API_TOKENS.name, {"shop": schema.SHOP})
    return sorted((TokenState.model_validate(r) for r in rows if r.get("created_at")),
                  key=_created_at, reverse=True)


def _created_at(token: TokenState) -> datetime:
    if token.created_at is None:  # all_tokens keeps only rows that have one
        raise ValueError("a token row without created_at")
    return token.created_at


def audit_log(store: Store, limit: int = 50) -> list[AuditEntry]:
    rows = store.query(schema.IDENTITY_AUDIT.name, {"shop": schema.SHOP}, limit=limit)
    return [AuditEntry.model_validate(r) for r in rows]
