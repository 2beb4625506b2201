"""axe-core (Deque's accessibility rules) on the shop's and the admin's main pages, at a phone's
width and a laptop's, in headless chromium: no "serious" or "critical" violation (contrast,
names of links, buttons and form fields, landmarks, ...).

axe-core comes from `bash ops/browser/axe.sh` (npm, into the data folder); without it the test
is skipped, or failed under COMMERCE_REQUIRE_BROWSER=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client

from ..web.accounts import PASSWORD, create_staff
from ..web.orders_helpers import place, run
from .harness import chromium, served_shop

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(os.environ.get("COMMERCE_DATA_DIR", ROOT / "var")) / "browser" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]}).then(
  r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                     nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))),
  e => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));
"""


def axe_source() -> str:
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE}): bash ops/browser/axe.sh"
        if os.environ.get("COMMERCE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


@pytest.fixture
def live_shop(orders_web):
    with served_shop() as url:
        yield url


def audit(driver, site: str, source: str, product_id: str, code: str, owner: str, sku: str) -> dict[str, list]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    found: dict[str, list] = {}

    def check(label: str) -> None:
        driver.execute_script(source)  # through the driver: the page's CSP does not apply to it
        blocking = [v for v in driver.execute_async_script(RUN_AXE) if v["impact"] in BLOCKING]
        if blocking:
            found[label] = blocking

    driver.set_script_timeout(60)
    for path in ("/shop/", "/shop/?q=hoodie", f"/shop/products/{product_id}"):
        driver.get(site + path)
        check(path)
    driver.find_element(By.ID, "add-button").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("/shop/cart"))
    check("/shop/cart")
    driver.find_element(By.ID, "checkout-button").click()
    WebDriverWait(driver, 15).until(expected_conditions.url_contains("/shop/checkout"))
    check("/shop/checkout")
    for path in ("/shop/orders/", "/shop/account/login/", "/shop/no-such-page", "/admin/login/"):
        driver.get(site + path)
        check(path)
    driver.find_element(By.NAME, "email").send_keys(owner)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#staff-login button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(f"{site}/admin/"))
    for path in ("/admin/", "/admin/orders/", f"/admin/orders/{code}", "/admin/returns/", "/admin/inventory/",
                 "/admin/inventory/locations", f"/admin/inventory/sku/{sku}/", "/admin/settings/", "/admin/staff/"):
        driver.get(site + path)
        check(path)
    return found


@pytest.mark.parametrize("size", [(390, 844), (1366, 900)], ids=["390px", "1366px"])
async def test_no_serious_accessibility_violations(size, live_shop, orders_web, order_variant):
    source = axe_source()
    placed = await run(place, Client(), order_variant.id, quantity=1)
    owner = await run(create_staff, orders_web, "owner")
    with chromium(*size) as driver:
        found = await run(audit, driver, live_shop, source, order_variant.product_id,
                          placed["confirmation_code"], owner.email, order_variant.blank_sku)
    assert found == {}, found
