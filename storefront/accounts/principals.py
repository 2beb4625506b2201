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
    email_verified: bool = False  # proven by the emailed link: the guest orders with this email are theirs

    @property
    def guest_customer_id(self) -> str | None:
        """The customer id of orders placed as a guest with this email, once the email is verified."""
        return f"guest:{self.email.strip().lower()}" if self.email_verified else None

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
