"""Signing out ends the session for every copy of its cookie.

Sessions live in the write store (storefront/session_store.py); the cookie carries only a
key. A cookie copied before sign-out (from a shared computer, a proxy log, malware) opens
nothing afterwards: not the account pages, not the shopper's orders, not the admin panel.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.test import Client

from infra.store.schema import WEB_SESSIONS
from infra.store.sqlite import SqliteStore

from ..web.accounts import create_shopper, shopper_sign_in, staff_browser
from ..web.orders_helpers import place, run

COOKIE = settings.SESSION_COOKIE_NAME


def _copy_of(browser: Client) -> Client:
    """Another browser holding a copy of this one's session cookie."""
    thief = Client()
    thief.cookies[COOKIE] = browser.cookies[COOKIE].value
    return thief


def _to_sign_in(response, page: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(f"{page}?next=")


async def test_a_shoppers_copied_cookie_is_signed_out_with_the_shopper(orders_web, order_variant):
    def visit():
        shopper = create_shopper(orders_web)
        browser = shopper_sign_in(shopper.email)
        code = place(browser, order_variant.id)["confirmation_code"]
        thief = _copy_of(browser)
        assert thief.get("/shop/account/").status_code == 200  # the copy works while the session lives
        assert code in thief.get("/api/orders").content.decode()

        assert browser.post("/shop/account/logout/").status_code == 302

        assert _to_sign_in(thief.get("/shop/account/"), "/shop/account/login/")
        assert code not in thief.get("/api/orders").content.decode()
        assert thief.get(f"/api/orders/{code}").status_code == 404
        assert _to_sign_in(thief.get("/admin/"), "/admin/login/")
        assert _to_sign_in(browser.get("/shop/account/"), "/shop/account/login/")

    await run(visit)


async def test_a_staff_members_copied_cookie_is_signed_out_with_them(orders_web):
    def visit():
        browser = staff_browser(orders_web, "owner")
        thief = _copy_of(browser)
        assert thief.get("/admin/").status_code == 200

        assert browser.post("/admin/logout/").status_code == 302

        assert _to_sign_in(thief.get("/admin/"), "/admin/login/")
        assert _to_sign_in(thief.get("/admin/staff/"), "/admin/login/")
        assert thief.get("/api/orders").json() == {"orders": []}
        assert _to_sign_in(thief.get("/shop/account/"), "/shop/account/login/")

    await run(visit)


async def test_a_password_change_signs_out_a_copy_of_this_browsers_cookie(orders_web):
    from ..web.accounts import PASSWORD

    def visit():
        shopper = create_shopper(orders_web)
        browser = shopper_sign_in(shopper.email)
        thief = _copy_of(browser)
        new = "a different horse staple"
        changed = browser.post("/shop/account/password/",
                               {"current_password": PASSWORD, "password": new, "password2": new})
        assert changed.status_code == 302, changed.content.decode()[:300]

        assert browser.get("/shop/account/").status_code == 200  # the browser that changed it stays in
        assert _to_sign_in(thief.get("/shop/account/"), "/shop/account/login/")

    await run(visit)


# --- the session store itself -----------------------------------------------------------------------

@pytest.fixture
def session_store(tmp_path, monkeypatch):
    from storefront import session_store

    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    monkeypatch.setattr(session_store.services, "store", lambda: store)
    yield session_store.SessionStore, store
    store.close()


def test_a_session_is_read_back_by_its_key_until_deleted(session_store):
    SessionStore, _ = session_store
    session = SessionStore()
    session["shopper"] = {"id": "s1", "epoch": 1}
    session.save()
    key = session.session_key

    assert SessionStore(key)["shopper"] == {"id": "s1", "epoch": 1}
    session.flush()
    assert SessionStore(key).load() == {}
    assert not SessionStore().exists(key)


def test_an_expired_session_is_not_loaded_and_is_cleared(session_store):
    SessionStore, store = session_store
    session = SessionStore()
    session["shopper"] = {"id": "s1", "epoch": 1}
    session.save()
    store.put(WEB_SESSIONS.name, {"session_key": session.session_key,
                                  "expires_at": datetime.now(UTC) - timedelta(seconds=1)})

    stale = SessionStore(session.session_key)
    assert stale.load() == {}
    assert stale.session_key is None  # the expired key is never reused
    SessionStore.clear_expired()
    assert store.get(WEB_SESSIONS.name, {"session_key": session.session_key}) is None


def test_a_request_still_running_cannot_write_a_signed_out_session_back(session_store):
    SessionStore, store = session_store
    session = SessionStore()
    session["orders"] = ["o1"]
    session.save()
    in_flight = SessionStore(session.session_key)
    assert in_flight["orders"] == ["o1"]  # read at the start of the request

    SessionStore(session.session_key).delete()  # signed out meanwhile
    in_flight["orders"] = ["o1", "o2"]
    with pytest.raises(UpdateError):
        in_flight.save()
    assert store.get(WEB_SESSIONS.name, {"session_key": session.session_key}) is None
