"""The people and tokens a request can carry, as the views see them."""

from __future__ import annotations

from dataclasses import dataclass

from domains.identity.roles import Permission, Role, Scope, allowed


@dataclass(frozen=True)
class StaffUser:
    staff_id: str
    email: str
    name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"staff:{self.email}"

    def can(self, permission: Permission | str) -> bool:
        return allowed(self.role, permission)


@dataclass(frozen=True)
class Shopper:
    shopper_id: str
    email: str
    name: str

    @property
    def actor(self) -> str:
        return f"shopper:{self.shopper_id}"


@dataclass(frozen=True)
class ApiClient:
    """A request authenticated by an API token."""

    token_id: str
    name: str
    scopes: frozenset[Scope]

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}"

    def has(self, scope: Scope | str) -> bool:
        return Scope(scope) in self.scopes
