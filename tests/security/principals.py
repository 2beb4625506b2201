"""Everyone who can knock on the shop's door, each in a browser of their own that enforces
CSRF as a real browser would: a visitor, two shoppers, a member of staff per role, and an
API client per token scope plus one whose token was revoked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.test import Client

from domains.identity import client as identity
from domains.identity.roles import Role, Scope

from ..web.accounts import PASSWORD, create_shopper, create_staff, new_email

SHOPPERS = ("A", "B")
ROLES = tuple(r.value for r in Role)  # owner, manager, support, fulfillment
TOKEN_SCOPES = {"t:search": Scope.SEARCH_READ, "t:oread": Scope.ORDERS_READ, "t:owrite": Scope.ORDERS_WRITE,
                "t:ful": Scope.FULFILLMENT_WRITE, "t:cadences": Scope.CADENCES_WRITE}
REVOKED = "t:revoked"
PRINCIPALS = ("anon", *SHOPPERS, *ROLES, *TOKEN_SCOPES, REVOKED)

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Principal:
    name: str
    client: Client
    email: str = ""
    account_id: str = ""  # shopper id or staff id
    token: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        """The CSRF secret from this browser's cookie (what a form on any page would carry)."""
        return self.client.cookies["csrftoken"].value


def csrf_from(client: Client, page: str) -> str:
    """Visit a page with a form, as a person would before posting it."""
    response = client.get(page)
    found = _CSRF_FIELD.search(response.content.decode())
    assert found, f"{page} has no CSRF field ({response.status_code})"
    return found.group(1)


def _browser(**headers) -> Client:
    client = Client(enforce_csrf_checks=True, **headers)
    csrf_from(client, "/shop/account/login/")  # every browser has a CSRF cookie, as after any page view
    return client


def sign_in(login_page: str, email: str, password: str = PASSWORD) -> Client:
    """A fresh browser signed in through the real form, CSRF token and all."""
    client = Client(enforce_csrf_checks=True)
    token = csrf_from(client, login_page)
    response = client.post(login_page, {"email": email, "password": password, "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content.decode()[:400]
    return client


def everyone(shop) -> dict[str, Principal]:
    """Every principal, made through identity's workflows (sync: run it in a thread)."""
    from storefront import services

    found = {"anon": Principal("anon", _browser())}
    for name in SHOPPERS:
        view = create_shopper(shop, new_email(f"shopper-{name.lower()}"))
        found[name] = Principal(name, sign_in("/shop/account/login/", view.email), view.email, view.shopper_id)
    for role in ROLES:
        view = create_staff(shop, role)
        found[role] = Principal(role, sign_in("/admin/login/", view.email), view.email, view.staff_id)
    for name, scope in [*TOKEN_SCOPES.items(), (REVOKED, Scope.ORDERS_READ)]:
        record, secret = services.temporal().run(lambda client, scope=scope: identity.create_token(
            client, f"matrix {scope.value}", [scope], "test"))
        found[name] = Principal(name, _browser(HTTP_AUTHORIZATION=f"Bearer {secret}"), token=secret,
                                account_id=record.token_id)
    services.temporal().run(lambda client: identity.revoke_token(client, found[REVOKED].account_id, "test"))
    return found
