"""Staff sign-in through /admin/login/ against the identity workflows on the dev server."""

from __future__ import annotations

from django.test import Client

from domains.identity import client as identity
from domains.identity import reads

from ..web.accounts import PASSWORD, create_staff, new_email, staff_browser
from ..web.orders_helpers import run


async def test_staff_sign_in_then_the_role_decides_what_opens(orders_web):
    anonymous = Client()
    redirected = await run(anonymous.get, "/admin/orders/")
    assert redirected.status_code == 302 and redirected["Location"].startswith("/admin/login/?next=")

    support = await run(staff_browser, orders_web, "support")
    page = await run(support.get, "/admin/")
    assert page.status_code == 200 and support.staff_email in page.content.decode()
    forbidden = await run(support.get, "/admin/settings/")
    assert forbidden.status_code in (403, 404)


async def test_wrong_passwords_lock_the_account_and_the_right_one_waits(orders_web):
    email = new_email("locked")
    await run(create_staff, orders_web, "manager", email)
    browser = Client()
    for _ in range(4):
        wrong = await run(browser.post, "/admin/login/", {"email": email, "password": "not it at all"})
        assert wrong.status_code == 401 and b"invalid_credentials" in wrong.content
    fifth = await run(browser.post, "/admin/login/", {"email": email, "password": "still not it"})
    assert fifth.status_code == 423 and b"account_locked" in fifth.content
    right = await run(browser.post, "/admin/login/", {"email": email, "password": PASSWORD})
    assert right.status_code == 423  # locked even for the right password
    unknown = await run(browser.post, "/admin/login/", {"email": new_email("nobody"), "password": PASSWORD})
    assert unknown.status_code == 401  # same answer as a wrong password


async def test_disabling_a_staff_user_ends_their_open_session(orders_web):
    owner = await run(create_staff, orders_web, "owner")
    manager = await run(staff_browser, orders_web, "manager")
    assert (await run(manager.get, "/admin/")).status_code == 200
    staff_id = reads.staff_by_email(orders_web.store, manager.staff_email).staff_id
    await identity.set_staff_active(orders_web.client, orders_web.store, staff_id, False, f"staff:{owner.email}")
    after = await run(manager.get, "/admin/")
    assert after.status_code == 302 and after["Location"].startswith("/admin/login/")
    again = await run(Client().post, "/admin/login/", {"email": manager.staff_email, "password": PASSWORD})
    assert again.status_code == 403 and b"account_disabled" in again.content
