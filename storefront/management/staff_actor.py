"""Who runs a staff command: `--staff EMAIL` (or COMMERCE_STAFF) names an active staff user
whose role allows the action, decided by the same role table as the admin panel."""

from __future__ import annotations

from django.core.management.base import CommandError

from domains.identity import reads
from domains.identity.roles import Permission, allowed
from storefront import services

NOT_PERMITTED = 4  # the exit code of a command refused for who ran it


def staff_actor(email: str, needs: Permission) -> str:
    """The actor to record (`staff:<email>`), or a CommandError with exit code 4."""
    if not email:
        raise CommandError("say who you are: --staff EMAIL (or set COMMERCE_STAFF)", returncode=NOT_PERMITTED)
    member = reads.staff_by_email(services.store(), email)
    if member is None or not member.active:
        raise CommandError(f"{email} is not an active staff user", returncode=NOT_PERMITTED)
    if not allowed(member.role, needs):
        raise CommandError(f"{member.email} ({member.role}) may not do this: it needs {needs.value}",
                           returncode=NOT_PERMITTED)
    return f"staff:{member.email}"
