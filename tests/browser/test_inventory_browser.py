"""The admin's locations page and a SKU's per-location page on a phone (390 px) in a real
browser (Debian's headless chromium): no sideways scrolling, every form's button in reach, a
move between two locations made by tapping through the form, and a clean console."""

from __future__ import annotations

import pytest

from domains.inventory import client as inventory
from domains.inventory import locations as registry
from storefront import services

from ..web.accounts import PASSWORD, create_staff
from ..web.orders_helpers import run
from .harness import chromium, served_shop

pytestmark = pytest.mark.browser

PHONE = (390, 844)
FITS = "return [document.documentElement.scrollWidth, window.innerWidth]"


@pytest.fixture
def live_shop(orders_web):
    with served_shop() as url:
        yield url


def inventory_on_a_phone(driver, site: str, email: str, sku: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(f"{site}/admin/login/?next=/admin/inventory/locations")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#staff-login button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(f"{site}/admin/inventory/locations"))
    driver.get_log("browser")
    seen = {"locations fit": driver.execute_script(FITS),
            "create shown": driver.find_element(By.CSS_SELECTOR, "#location-form button[type=submit]").is_displayed()}
    driver.get(f"{site}/admin/inventory/sku/{sku}/")
    seen["sku page fits"] = driver.execute_script(FITS)
    seen["buttons shown"] = [driver.find_element(By.CSS_SELECTOR, f"#{form} button[type=submit]").is_displayed()
                             for form in ("adjust-form", "move-form", "count-form", "policy-form")]
    Select(driver.find_element(By.CSS_SELECTOR, "#move-form select[name=from_location]")).select_by_value("default")
    Select(driver.find_element(By.CSS_SELECTOR, "#move-form select[name=to_location]")).select_by_value("east")
    driver.find_element(By.CSS_SELECTOR, "#move-form input[name=quantity]").send_keys("3")
    driver.find_element(By.CSS_SELECTOR, "#move-form button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: "moved 3" in d.page_source)
    seen["after move"] = {row.get_attribute("data-location"): row.get_attribute("data-on-hand")
                          for row in driver.find_elements(By.CSS_SELECTOR, "#location-levels tbody tr")}
    seen["after move fits"] = driver.execute_script(FITS)
    seen["console"] = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return seen


async def test_locations_and_a_sku_page_work_on_a_phone(live_shop, orders_web, order_variant):
    sku = order_variant.blank_sku
    await registry.save_location(services.store(), orders_web.client, registry.Location(
        id="east", name="East coast warehouse", kind="warehouse", country="US", state="NY", city="Albany",
        address_line="1 Dock St", priority=50))
    manager = await run(create_staff, orders_web, "manager")
    with chromium(*PHONE, console_log=True) as driver:
        seen = await run(inventory_on_a_phone, driver, live_shop, manager.email, sku)
    for key in ("locations fit", "sku page fits", "after move fits"):
        assert seen[key][0] <= seen[key][1], (key, seen[key])
    assert seen["create shown"] and seen["buttons shown"] == [True] * 4
    assert seen["after move"] == {"default": "17", "east": "3"}
    (level,) = await inventory.levels(orders_web.client, [sku])
    assert level.on_hand == 20
    assert seen["console"] == []
