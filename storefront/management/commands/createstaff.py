"""`python manage.py createstaff EMAIL --role owner [--password P] [--name N]`

Creates a staff user through identity's workflow (a worker must be running). Without
--password it prompts twice, as a person at a terminal expects.
"""

from __future__ import annotations

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from domains.identity import client as identity
from domains.identity.client import IdentityError
from domains.identity.messages import EMAIL_PATTERN
from domains.identity.roles import Role
from storefront import services
from storefront.accounts.passwords import hashed, problems


class Command(BaseCommand):
    help = "Create a staff user who signs in at /admin/login/."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--password", help="the password (prompted for when omitted)")
        parser.add_argument("--name", default="")

    def handle(self, *args, email: str, role: str, password: str | None, name: str, **options):
        import re

        if not re.match(EMAIL_PATTERN, email.strip()):
            raise CommandError(f"not an email address: {email!r}")
        if len(name) > 120:
            raise CommandError("--name: at most 120 characters")
        if password is None:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("the passwords differ")
        trouble = problems(password, email)
        if trouble:
            raise CommandError("password refused: " + " ".join(trouble))
        actor = f"cli:{os.environ.get('USER') or 'unknown'}"
        try:
            view = services.temporal().run(lambda client: identity.create_staff(
                client, email, Role(role), hashed(password), actor, name))
        except IdentityError as exc:
            raise CommandError(str(exc)) from None
        except ConnectionError as exc:
            raise CommandError(f"{exc}; is the Temporal server running (make run)?") from None
        self.stdout.write(f"created {view.role} {view.email}; sign in at /admin/login/")
