"""The admin panel in a real browser (Debian's headless chromium), against the shop's real
workflows: a packer signs in and moves a manual supplier order to its next stage."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from domains.labels import label
from infra.store import schema

from ..web.accounts import PASSWORD, create_staff
from ..web.orders_helpers import place, run
from .harness import served_shop
from .test_storefront_browser import browser  # noqa: F401  (the chromium fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def live_shop(orders_web):
    """The real WSGI application on a loopback port, in front of the shop's workflows."""
    with served_shop() as url:
        yield url


def advance_in_the_browser(driver, site: str, email: str, code: str) -> dict:
    """Sign in, open the order, move its supplier order on with the page's own form, and
    read what the page shows afterwards. Every browser call runs here, off the event loop
    the workers need while the page's POST waits for the supplier order."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.delete_all_cookies()
    driver.get(f"{site}/admin/login/?next=/admin/orders/{code}")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#staff-login button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(f"{site}/admin/orders/{code}"))

    deadline = time.monotonic() + 30
    while not driver.find_elements(By.CSS_SELECTOR, "form.advance-stage"):  # routing takes a moment
        assert time.monotonic() < deadline, "the order page never offered to advance a stage"
        time.sleep(0.5)
        driver.refresh()
    supplier_order = driver.find_element(By.CSS_SELECTOR, "div.so")
    so_id, before = supplier_order.get_attribute("data-supplier-order"), supplier_order.get_attribute("data-status")
    form = supplier_order.find_element(By.CSS_SELECTOR, "form.advance-stage")
    stage = Select(form.find_element(By.NAME, "to"))
    offered = [o.get_attribute("value") for o in stage.options]
    chosen = "in_production" if "in_production" in offered else offered[0]
    stage.select_by_value(chosen)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(form))  # the next page replaced it

    shown = driver.find_element(By.CSS_SELECTOR, f'div.so[data-supplier-order="{so_id}"]')
    return {"url": driver.current_url, "before": before, "chosen": chosen,
            "status": shown.get_attribute("data-status"),
            "status_text": shown.find_element(By.CSS_SELECTOR, ".supplier-status").text,
            "actors": [td.text for td in shown.find_elements(By.CSS_SELECTOR, f'tr[data-stage="{chosen}"] td.actor')],
            "other_actions": [f.get_attribute("id") for f in driver.find_elements(By.CSS_SELECTOR, "form[id]")]}


async def test_a_packer_advances_a_manual_stage_from_the_order_page(browser, live_shop, orders_web,  # noqa: F811
                                                                     order_variant):
    orders_web.store.put(schema.SETTINGS.name, {"name": "fulfillment", "updated_by": "test",
                                                "value": {"manual": True, "stage_seconds": 3600}})
    placed = await run(place, Client(), order_variant.id, quantity=1)
    code = placed["confirmation_code"]
    packer = await run(create_staff, orders_web, "fulfillment")

    seen = await run(advance_in_the_browser, browser, live_shop, packer.email, code)

    assert seen["before"] == "pending" and seen["chosen"] != "pending"
    # The form posted, the view waited for the supplier order to take the stage, and the page shows it.
    assert seen["url"] == f"{live_shop}/admin/orders/{code}"
    assert seen["status"] == seen["chosen"] and seen["status_text"] == label("supplier_status", seen["chosen"])
    assert seen["actors"] == [f"staff:{packer.email}"]
    # a packer gets no cancel, refund or note forms
    assert not {"cancel-order", "refund-order", "add-note"} & set(seen["other_actions"])
