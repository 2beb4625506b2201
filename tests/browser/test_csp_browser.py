"""The shop's pages under their Content-Security-Policy in a real browser (Debian's headless
chromium), at a phone's width and a desktop's: the console stays clean (no refused inline
script or style, no failed load) and the pages are still styled by their stylesheets and
still run their scripts.

A shopper searches, opens a product, switches colour in place (the product script), adds
to the cart, opens the checkout, signs in, looks at the account and finds an order with the
guest lookup form; an owner opens the admin pages.
"""

from __future__ import annotations

import pytest
from django.test import Client

from ..web.accounts import PASSWORD, create_shopper, create_staff
from ..web.orders_helpers import SHIPPING, place, run
from .harness import chromium, served_shop

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
ADMIN_PAGES = ["/admin/", "/admin/orders/", "/admin/inventory/", "/admin/carts/", "/admin/catalog/",
               "/admin/cadences/", "/admin/cadences/new", "/admin/tokens/", "/admin/staff/", "/admin/settings/",
               "/admin/ops/", "/admin/webhooks/", "/admin/returns/", "/admin/inventory/locations"]


@pytest.fixture(params=list(WIDTHS))
def logged_browser(request):
    """Headless chromium keeping the console log, at the parameter's window size."""
    with chromium(*WIDTHS[request.param], console_log=True) as driver:
        driver.viewport = request.param
        yield driver


@pytest.fixture
def live_shop(orders_web):
    with served_shop() as url:
        yield url


class Visits:
    """Opens pages and keeps, per page, what the console said and whether it looks styled."""

    def __init__(self, driver, site: str):
        self.driver, self.site = driver, site
        self.console: dict[str, list[str]] = {}
        self.unstyled: list[str] = []
        self.pages = 0
        driver.get_log("browser")  # start clean

    def check(self, label: str, *, stylesheet_rule: tuple[str, str, str]) -> None:
        """After a page has loaded: the console since the last check, and one computed style
        that only the page's stylesheet gives (selector, property, value)."""
        selector, prop, value = stylesheet_rule
        self.pages += 1
        entries = [e for e in self.driver.get_log("browser")
                   if e["level"] in ("SEVERE", "ERROR") or "Content Security Policy" in e["message"]]
        if entries:
            self.console[label] = [e["message"][:300] for e in entries]
        got = self.driver.execute_script(
            "const el = document.querySelector(arguments[0]);"
            "return el ? getComputedStyle(el).getPropertyValue(arguments[1]) : null;", selector, prop)
        if got != value:
            self.unstyled.append(f"{label}: {selector} {prop} is {got!r}, not {value!r}")

    def open(self, path: str, rule: tuple[str, str, str]) -> None:
        self.driver.get(self.site + path)
        self.check(path, stylesheet_rule=rule)


SHOP_STYLED = ("header.top", "display", "flex")  # shop.css
ADMIN_STYLED = ("header.top", "background-color", "rgb(29, 35, 48)")  # admin.css


def shop_in_the_browser(driver, site: str, product_id: str, shopper_email: str, code: str) -> Visits:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import Select, WebDriverWait

    visits = Visits(driver, site)
    visits.open("/shop/", SHOP_STYLED)
    visits.open("/shop/?q=hoodie", ("aside li a .n", "font-size", driver.execute_script(
        "return (parseFloat(getComputedStyle(document.body).fontSize) * 0.85) + 'px'")))
    # the sort select submits itself (shop.js, not an onchange="" attribute)
    Select(driver.find_element(By.NAME, "sort")).select_by_index(1)
    WebDriverWait(driver, 10).until(lambda d: "sort=" in d.current_url)
    visits.check("/shop/ sorted", stylesheet_rule=SHOP_STYLED)

    visits.open(f"/shop/products/{product_id}", (".swatch", "border-radius", "50%"))
    others = driver.find_elements(By.CSS_SELECTOR, ".swatches a:not(.on)")
    if others:  # product.js switches the colour in place: the same document, a new URL
        marker = driver.execute_script("window.__same = 1; return location.href")
        others[0].click()
        WebDriverWait(driver, 10).until(lambda d: d.current_url != marker)
        assert driver.execute_script("return window.__same") == 1, "the swatch reloaded the page: no product.js"
        visits.check("product colour switch", stylesheet_rule=(".swatch.on", "outline-style", "solid"))
    add = driver.find_element(By.ID, "add-button")
    if not add.is_enabled():  # the colour switched to may be sold out: take the first that is not
        driver.get(f"{site}/shop/products/{product_id}")
    driver.find_element(By.ID, "add-button").click()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(  # the page reloads: read it afresh each time
        "const el = document.getElementById('cart-count'); return el && el.textContent.trim()") not in (None, "", "0"))
    visits.open("/shop/cart", ("table.lines", "border-collapse", "collapse"))
    driver.find_element(By.ID, "checkout-button").click()
    WebDriverWait(driver, 15).until(expected_conditions.url_contains("/shop/checkout"))
    visits.check("/shop/checkout", stylesheet_rule=("form.stack", "display", "grid"))

    visits.open("/shop/account/login/", ("form.stack", "display", "grid"))
    driver.find_element(By.NAME, "email").send_keys(shopper_email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#shopper-login button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "account-link"))
    visits.open("/shop/account/", ("#account-link", "font-weight", "600"))

    visits.open("/shop/orders/", ("form.stack", "display", "grid"))
    form = driver.find_element(By.ID, "order-lookup")
    form.find_element(By.NAME, "email").send_keys(SHIPPING["email"])
    form.find_element(By.NAME, "confirmation_code").send_keys(code)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 15).until(expected_conditions.url_contains(f"/shop/orders/{code}"))
    visits.check(f"/shop/orders/{code}", stylesheet_rule=(".progressbar span", "display", "block"))
    width = driver.execute_script("return getComputedStyle(document.querySelector('.progressbar span')).width")
    assert width not in ("0px", "auto"), f"the progress bar has no width ({width}): its class rule is missing"
    return visits


def admin_in_the_browser(driver, site: str, owner_email: str, code: str) -> Visits:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    visits = Visits(driver, site)
    visits.open("/admin/login/", (".narrow-center", "max-width", "420px"))
    driver.find_element(By.NAME, "email").send_keys(owner_email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#staff-login button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(f"{site}/admin/"))
    for path in [*ADMIN_PAGES, f"/admin/orders/{code}"]:
        visits.open(path, ADMIN_STYLED)
    return visits


async def test_shop_pages_keep_a_clean_console_and_their_styles(logged_browser, live_shop, orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id, quantity=1)
    shopper = await run(create_shopper, orders_web)
    visits = await run(shop_in_the_browser, logged_browser, live_shop, order_variant.product_id, shopper.email,
                       placed["confirmation_code"])
    assert visits.pages >= 9
    assert not visits.console, f"{logged_browser.viewport}: {visits.console}"
    assert not visits.unstyled, f"{logged_browser.viewport}: {visits.unstyled}"


async def test_admin_pages_keep_a_clean_console_and_their_styles(logged_browser, live_shop, orders_web,
                                                                 order_variant):
    placed = await run(place, Client(), order_variant.id, quantity=1)
    owner = await run(create_staff, orders_web, "owner")
    visits = await run(admin_in_the_browser, logged_browser, live_shop, owner.email, placed["confirmation_code"])
    assert visits.pages == len(ADMIN_PAGES) + 2
    assert not visits.console, f"{logged_browser.viewport}: {visits.console}"
    assert not visits.unstyled, f"{logged_browser.viewport}: {visits.unstyled}"
