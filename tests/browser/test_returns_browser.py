"""Returns on a phone (390 px) in headless chromium: a shopper goes from the order page's
"Return items" through the form (a card per line: how many, why, an exchange) to the return's
status page, and support approves a return on the admin's return page; no sideways scrolling
and a clean console on each page."""

from __future__ import annotations

import pytest
from django.test import Client

from ..web.accounts import PASSWORD, create_shopper, create_staff, shopper_sign_in
from ..web.orders_helpers import run
from ..web.returns_helpers import delivered_order, one_line, open_return
from .harness import chromium, served_shop
from .test_phone_browser import FITS, PHONE

pytestmark = pytest.mark.browser


def return_on_a_phone(driver, site: str, email: str, code: str, line_id: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import Select, WebDriverWait

    seen: dict = {"too wide": {}, "console": {}}

    def check(label: str) -> None:
        width, inner = driver.execute_script(FITS)
        if width > inner:
            seen["too wide"][label] = (width, inner)
        errors = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        if errors:
            seen["console"][label] = errors

    driver.get(f"{site}/shop/account/login/?next=/shop/orders/{code}")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#shopper-login button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(f"{site}/shop/orders/{code}"))
    driver.get_log("browser")
    check("order page")
    driver.find_element(By.ID, "return-items").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("/return"))
    check("return form")
    card = driver.find_element(By.CSS_SELECTOR, f'fieldset[data-line="{line_id}"]')
    seen["short targets"] = driver.execute_script(
        "return [...arguments[0].querySelectorAll('select')].filter(el => el.getBoundingClientRect().height < 44)"
        ".map(el => el.name)", card)
    Select(card.find_element(By.CSS_SELECTOR, "select.return-qty")).select_by_value("1")
    Select(card.find_element(By.CSS_SELECTOR, "select.return-reason")).select_by_value("too_small")
    driver.find_element(By.NAME, "note").send_keys("A size up would be great")
    driver.find_element(By.ID, "return-submit").click()
    WebDriverWait(driver, 15).until(expected_conditions.url_contains("/shop/returns/"))
    check("return status page")
    seen["url"] = driver.current_url
    seen["status"] = driver.find_element(By.ID, "return-status").get_attribute("data-status")
    seen["flash"] = driver.find_element(By.ID, "flash").text
    return seen


async def test_a_shopper_opens_a_return_on_a_phone(orders_web, order_variant):
    shopper = await run(create_shopper, orders_web)
    browser = await run(shopper_sign_in, shopper.email)
    order = await delivered_order(orders_web, browser, order_variant.id, quantity=2)
    code, line = order["confirmation_code"], order["lines"][0]["line_id"]
    with served_shop() as site, chromium(*PHONE, console_log=True) as driver:
        seen = await run(return_on_a_phone, driver, site, shopper.email, code, line)
    assert seen["url"].endswith(f"/shop/returns/{code}-R1")
    assert seen["status"] == "requested" and "requested" in seen["flash"]
    assert seen["too wide"] == {} and seen["console"] == {}, seen
    assert seen["short targets"] == []


def admin_return_on_a_phone(driver, site: str, email: str, return_id: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{site}/admin/login/?next=/admin/returns/{return_id}")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#staff-login button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(f"{site}/admin/returns/{return_id}"))
    driver.get_log("browser")
    seen = {"detail fits": driver.execute_script(FITS),
            "forms": [f.get_attribute("id") for f in driver.find_elements(By.CSS_SELECTOR, "form[id]")]}
    driver.find_element(By.CSS_SELECTOR, "#approve-return button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "in-transit-return"))
    seen["after approve fits"] = driver.execute_script(FITS)
    seen["status"] = driver.find_element(By.ID, "return-status").get_attribute("data-status")
    driver.get(f"{site}/admin/returns/")
    seen["list fits"] = driver.execute_script(FITS)
    seen["console"] = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return seen


async def test_staff_approve_a_return_on_a_phone(orders_web, order_variant):
    shopper = Client()
    order = await delivered_order(orders_web, shopper, order_variant.id, quantity=1)
    opened = await run(open_return, shopper, order["confirmation_code"], one_line(order))
    support = await run(create_staff, orders_web, "support")
    with served_shop() as site, chromium(*PHONE, console_log=True) as driver:
        seen = await run(admin_return_on_a_phone, driver, site, support.email, opened.json()["id"])
    assert {"approve-return", "reject-return"} <= set(seen["forms"])
    assert seen["status"] == "label_issued" and seen["console"] == []
    for page in ("detail fits", "after approve fits", "list fits"):
        assert seen[page][0] <= seen[page][1], (page, seen[page])
