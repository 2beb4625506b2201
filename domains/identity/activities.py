"""Identity's activities: each writes one entity's row (and an audit entry) to the write
store. Rows are whole-state upserts, so a retried save writes the same thing again."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from infra.store import Store, schema

from .messages import AuditEntry, ShopperState, StaffState, TokenState
from .shop_settings import SETTINGS_ROW, ShopSettings


class IdentityActivities:
    def __init__(self, store: Store):
        self.store = store

    def _audit(self, entry: AuditEntry | None) -> None:
        if entry is None:
            return
        info = activity.info()
        # One entry per workflow event, whatever the attempt: the id comes from the activity's identity.
        entry_id = f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"
        self.store.put(schema.IDENTITY_AUDIT.name, {
            "shop": schema.SHOP, "at": entry.at, "entry_id": entry_id, "actor": entry.actor,
            "action": entry.action, "target": entry.target, "detail": entry.detail})

    @activity.defn
    def save_shopper(self, state: ShopperState) -> None:
        self.store.put(schema.SHOPPERS.name, {
            "shopper_id": state.shopper_id, "email": state.email, "name": state.name, "phone": state.phone,
            "registered_at": state.registered_at,
            "addresses": [a.model_dump(mode="json") for a in state.addresses],
            "credentials": state.credentials.model_dump(mode="json"), "cart_id": state.cart_id,
            "updated_at": datetime.now(UTC)})

    @activity.defn
    def save_staff(self, state: StaffState, entry: AuditEntry | None) -> None:
        self.store.put(schema.STAFF_USERS.name, {
            "shop": schema.SHOP, "staff_id": state.staff_id, "email": state.email, "name": state.name,
            "role": state.role.value if state.role else None, "active": state.active,
            "created_at": state.created_at, "created_by": state.created_by,
            "credentials": state.credentials.model_dump(mode="json"), "updated_at": datetime.now(UTC)})
        self._audit(entry)

    @activity.defn
    def save_token(self, state: TokenState, entry: AuditEntry | None) -> None:
        self.store.put(schema.API_TOKENS.name, {
            "shop": schema.SHOP, "token_id": state.token_id, "name": state.name,
            "scopes": [s.value for s in state.scopes], "secret_sha256": state.secret_sha256,
            "created_by": state.created_by, "created_at": state.created_at, "revoked_at": state.revoked_at,
            "revoked_by": state.revoked_by, "last_used_at": state.last_used_at})
        self._audit(entry)

    @activity.defn
    def save_settings(self, settings: ShopSettings, entry: AuditEntry | None) -> None:
        self.store.put(schema.SETTINGS.name, {
            "name": SETTINGS_ROW, "value": settings.model_dump(mode="json"), "updated_at": datetime.now(UTC),
            "updated_by": settings.changed_by})
        self._audit(entry)
