"""Signed-in browsers for the web tests: real accounts made through identity's workflows,
signed in through the real sign-in pages."""

from __future__ import annotations

import uuid

from django.test import Client

from domains.identity import client as identity
from domains.identity.roles import Role
from storefront.accounts.passwords import hashed

PASSWORD = "correct horse battery staple"


def new_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def create_staff(shop, role: str, email: str | None = None, password: str = PASSWORD):
    from storefront import services

    email = email or new_email(role)
    return services.temporal().run(lambda client: identity.create_staff(
        client, email, Role(role), hashed(password), "test"))


def staff_browser(shop, role: str, email: str | None = None, password: str = PASSWORD) -> Client:
    """A browser signed in at /admin/login/ as a new staff user with `role`."""
    view = create_staff(shop, role, email, password)
    browser = Client()
    response = browser.post("/admin/login/", {"email": view.email, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    browser.staff_email = view.email
    return browser


def create_shopper(shop, email: str | None = None, password: str = PASSWORD, name: str = "Test Shopper"):
    from storefront import services

    email = email or new_email("shopper")
    return services.temporal().run(lambda client: identity.sign_up(
        client, email, name, hashed(password)))


def shopper_sign_in(email: str, password: str = PASSWORD, browser: Client | None = None) -> Client:
    """A browser (a new one unless given) signed in at /shop/account/login/ as an existing shopper."""
    browser = browser or Client()
    response = browser.post("/shop/account/login/", {"email": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return browser


def shopper_browser(shop, email: str | None = None, password: str = PASSWORD) -> Client:
    """A browser signed in at /shop/account/login/ as a new shopper."""
    view = create_shopper(shop, email, password)
    browser = shopper_sign_in(view.email, password)
    browser.shopper_id, browser.shopper_email = view.shopper_id, view.email
    return browser
