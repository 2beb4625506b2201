"""Who runs a staff command: `--staff EMAIL` (or COMMERCE_STAFF) names an active staff user
whose role allows the action, decided by the same role table as the admin panel."""

from __future__ import annotations

import os
from argparse import ArgumentParser

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


def add_staff_options(parser: ArgumentParser, changes: bool = True) -> None:
    """The options every staff command shares: --json, --staff EMAIL and, for one that changes
    something, --dry-run."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--staff", default=os.environ.get("COMMERCE_STAFF", ""), metavar="EMAIL",
                        help="the staff user doing this (default $COMMERCE_STAFF); their role must allow it")
    if changes:
        parser.add_argument("--dry-run", action="store_true", help="check everything, send nothing")
