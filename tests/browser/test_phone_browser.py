"""The shop and the admin panel on a phone (390 px) and a laptop (1366 px) in a real browser
(Debian's headless chromium): a whole purchase through the pages with no sideways scrolling and
a clean console on every page, the header's links in reach on a phone without JavaScript's
help, facets folded away so the first product shows on the first screen, tap targets of at
least 44 px, the admin's order page without sideways scrolling, an order with units waiting for
stock on a phone, a cart line cut by the hold that followed its add, and the styled 404 pages."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from ..web.accounts import PASSWORD, create_staff
from ..web.orders_helpers import SHIPPING, place, run, until
from .harness import chromium, served_shop

pytestmark = pytest.mark.browser

PHONE, LAPTOP = (390, 844), (1366, 900)

INVENTORY_LINK = 'nav.menu a[href="/admin/inventory/"]'
FITS = "return [document.documentElement.scrollWidth, window.innerWidth]"


@pytest.fixture
def live_shop(orders_web):
    with served_shop() as url:
        yield url


class Tour:
    """Pages visited, with what was wrong on each: sideways scrolling or console errors."""

    def __init__(self, driver, site: str):
        self.driver, self.site = driver, site
        self.visited: list[str] = []
        self.too_wide: dict[str, tuple[int, int]] = {}
        self.console: dict[str, list[str]] = {}
        driver.get_log("browser")  # start clean

    def check(self, label: str, *, expect_404: bool = False) -> None:
        self.visited.append(label)
        scroll_width, inner_width = self.driver.execute_script(FITS)
        if scroll_width > inner_width:
            self.too_wide[label] = (scroll_width, inner_width)
        errors = [e["message"][:300] for e in self.driver.get_log("browser")
                  if e["level"] in ("SEVERE", "ERROR") or "Content Security Policy" in e["message"]]
        if expect_404:  # the page's own status is reported as a failed load; nothing else may be
            errors = [m for m in errors if "404 (Not Found)" not in m or "favicon" in m]
        if errors:
            self.console[label] = errors

    def open(self, path: str, **kw) -> None:
        self.driver.get(self.site + path)
        self.check(path, **kw)


def _submit(driver, action: str) -> None:
    """Press the submit button of the checkout form whose hidden `action` is `action` (whatever
    else that form asks for keeps its defaults)."""
    from selenium.webdriver.common.by import By

    form = driver.find_element(By.XPATH, f'//form[.//input[@name="action" and @value="{action}"]]')
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def buy_in_the_browser(driver, site: str, product_id: str) -> Tour:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    tour = Tour(driver, site)
    tour.open("/shop/")
    tour.open("/shop/?q=hoodie")
    tour.open(f"/shop/products/{product_id}")
    driver.find_element(By.ID, "add-button").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("/shop/cart"))
    tour.check("cart")
    driver.find_element(By.ID, "checkout-button").click()
    WebDriverWait(driver, 15).until(expected_conditions.url_contains("/shop/checkout"))
    tour.check("checkout: shipping")
    for field, value in SHIPPING.items():
        box = driver.find_element(By.NAME, field)
        box.clear()
        box.send_keys(value)
    _submit(driver, "shipping")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.XPATH, '//input[@value="payment"]'))
    tour.check("checkout: payment")
    _submit(driver, "payment")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "place-order"))
    tour.check("checkout: review")
    driver.find_element(By.ID, "place-order").click()
    deadline = time.monotonic() + 30
    while not driver.find_elements(By.ID, "order-link"):  # "placing" turns into "complete"
        assert time.monotonic() < deadline, "the order was never placed"
        time.sleep(0.5)
        driver.refresh()
    tour.check("checkout: complete")
    driver.find_element(By.ID, "order-link").click()
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "order-status"))
    tour.check("order page")
    tour.open("/shop/orders/")
    return tour


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["390px", "1366px"])
async def test_a_whole_purchase_fits_the_screen_with_a_clean_console(size, live_shop, orders_web, order_variant):
    with chromium(*size, console_log=True) as driver:
        tour = await run(buy_in_the_browser, driver, live_shop, order_variant.product_id)
    assert len(tour.visited) == 10
    assert tour.too_wide == {}, f"pages wider than the {size[0]} px screen: {tour.too_wide}"
    assert tour.console == {}, tour.console


def phone_header_and_facets(driver, site: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    def on_screen(element) -> bool:
        return driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight",
            element)

    def short_targets(selector: str) -> list[str]:
        return driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].filter(el => el.offsetParent !== null)"
            ".filter(el => el.getBoundingClientRect().height < 44)"
            ".map(el => el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 30))", selector)

    seen: dict = {}
    driver.get(f"{site}/shop/?q=hoodie")
    search, cart = driver.find_element(By.NAME, "q"), driver.find_element(By.ID, "cart-count")
    seen["search and cart on screen"] = on_screen(search) and on_screen(cart)
    seen["orders hidden behind the menu"] = not driver.find_element(By.CSS_SELECTOR, ".orders-link").is_displayed()
    first = driver.find_element(By.CSS_SELECTOR, ".grid .card")
    seen["first product top"] = driver.execute_script("return arguments[0].getBoundingClientRect().top", first)
    seen["facets hidden"] = not driver.find_element(By.CSS_SELECTOR, '[data-facet="brand"]').is_displayed()
    seen["short header targets"] = short_targets("header a, header button, header input:not(.toggle), header label")
    driver.find_element(By.ID, "filters-button").click()  # a label: no JavaScript involved
    seen["facets after Filters"] = driver.find_element(By.CSS_SELECTOR, '[data-facet="brand"]').is_displayed()
    seen["short facet targets"] = short_targets("aside a")
    seen["fits with facets open"] = driver.execute_script(FITS)

    search.send_keys(" black")
    search.submit()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("q=hoodie+black"))
    seen["search works"] = int(driver.find_element(By.ID, "total").text) >= 0

    driver.find_element(By.CSS_SELECTOR, "label.menu-button").click()
    orders = driver.find_element(By.CSS_SELECTOR, ".orders-link")
    seen["orders after Menu"] = orders.is_displayed() and on_screen(orders)
    seen["short menu targets"] = short_targets("nav.menu a")
    orders.click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("/shop/orders/"))
    driver.find_element(By.CSS_SELECTOR, ".cart-link").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("/shop/cart"))
    seen["cart reached"] = True
    return seen


async def test_on_a_phone_the_header_is_in_reach_and_the_first_product_is_on_the_first_screen(shop):
    with served_shop() as site, chromium(*PHONE, console_log=True) as driver:
        seen = await run(phone_header_and_facets, driver, site)
    assert seen["search and cart on screen"] and seen["orders hidden behind the menu"]
    assert seen["first product top"] < PHONE[1] / 2, seen["first product top"]
    assert seen["facets hidden"] and seen["facets after Filters"]
    assert seen["fits with facets open"][0] <= seen["fits with facets open"][1]
    assert seen["search works"] and seen["orders after Menu"] and seen["cart reached"]
    assert seen["short header targets"] == [] and seen["short facet targets"] == [] and seen["short menu targets"] == []


def admin_order_on_a_phone(driver, site: str, email: str, code: str) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{site}/admin/login/?next=/admin/orders/{code}")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#staff-login button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(f"{site}/admin/orders/{code}"))
    driver.get_log("browser")
    seen = {"fits": driver.execute_script(FITS),
            "status": driver.find_element(By.ID, "order-status").text,
            "nav hidden": not driver.find_element(By.CSS_SELECTOR, INVENTORY_LINK).is_displayed()}
    driver.find_element(By.CSS_SELECTOR, "label.menu-button").click()
    seen["nav after Menu"] = driver.find_element(By.CSS_SELECTOR, INVENTORY_LINK).is_displayed()
    seen["fits with menu open"] = driver.execute_script(FITS)
    driver.get(f"{site}/admin/orders/")
    seen["list fits"] = driver.execute_script(FITS)
    seen["console"] = [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return seen


async def test_the_admin_order_page_fits_a_phone(live_shop, orders_web, order_variant):
    placed = await run(place, Client(), order_variant.id, quantity=1)
    owner = await run(create_staff, orders_web, "owner")
    with chromium(*PHONE, console_log=True) as driver:
        seen = await run(admin_order_on_a_phone, driver, live_shop, owner.email, placed["confirmation_code"])
    for key in ("fits", "fits with menu open", "list fits"):
        assert seen[key][0] <= seen[key][1], (key, seen[key])
    assert seen["nav hidden"] and seen["nav after Menu"]
    assert "_" not in seen["status"] and seen["status"][:1].isupper()  # "Placed", never "in_fulfillment"
    assert seen["console"] == []


def waiting_order_on_a_phone(driver, site: str, email: str, code: str) -> dict:
    """Open a guest order through the lookup form and see its units waiting for stock."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{site}/shop/orders/")
    form = driver.find_element(By.ID, "order-lookup")
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "confirmation_code").send_keys(code)
    driver.get_log("browser")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_to_be(f"{site}/shop/orders/{code}"))
    note = driver.find_element(By.CSS_SELECTOR, "#order-lines .waiting-note")
    card = driver.find_element(By.ID, "waiting-stock")
    width = driver.execute_script("return window.innerWidth")
    return {"fits": driver.execute_script(FITS), "note": note.text, "card": card.text,
            "note on screen": note.is_displayed() and note.rect["x"] >= 0
            and note.rect["x"] + note.rect["width"] <= width,
            "card on screen": card.is_displayed() and card.rect["x"] + card.rect["width"] <= width,
            "console": [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]}


async def test_an_order_waiting_for_stock_reads_well_on_a_phone(live_shop, orders_web, order_variant):
    from domains.inventory import client as inventory

    await inventory.set_policy(orders_web.client, order_variant.blank_sku, backorder_limit=10)
    await inventory.set_stock(orders_web.client, {order_variant.blank_sku: 1})
    placed = await run(place, Client(), order_variant.id, quantity=3)
    await until(orders_web, placed["order_id"], lambda v: bool(v.waiting))
    with chromium(*PHONE, console_log=True) as driver:
        seen = await run(waiting_order_on_a_phone, driver, live_shop, SHIPPING["email"], placed["confirmation_code"])
    assert seen["fits"][0] <= seen["fits"][1], seen["fits"]
    assert seen["note"] == "2 waiting for stock — ships when it arrives" and seen["note on screen"]
    assert "Waiting for stock" in seen["card"] and seen["card on screen"]
    assert seen["console"] == []


def cut_cart_on_a_phone(driver, site: str, cart_id: str) -> dict:
    """The cart page of a cart whose line a following hold cut: the notice, on screen."""
    from selenium.webdriver.common.by import By

    driver.get(f"{site}/shop/")
    driver.add_cookie({"name": "cart_id", "value": cart_id, "path": "/"})
    driver.get_log("browser")
    driver.get(f"{site}/shop/cart")
    notice = driver.find_element(By.CSS_SELECTOR, "[data-cart-notice]")
    width = driver.execute_script("return window.innerWidth")
    return {"fits": driver.execute_script(FITS), "notice": notice.text,
            "on screen": notice.is_displayed() and notice.rect["x"] >= 0
            and notice.rect["x"] + notice.rect["width"] <= width and notice.rect["y"] < 844,
            "quantity": driver.find_element(By.CSS_SELECTOR, ".cart-lines input.qty").get_attribute("value"),
            "console": [e["message"][:200] for e in driver.get_log("browser") if e["level"] == "SEVERE"]}


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
async def test_a_line_cut_by_the_hold_that_followed_the_add_says_so_on_the_cart_page(size, live_shop, orders_web,
                                                                                    order_variant):
    """An add answered before its hold (the stock row showed plenty) whose hold came back short:
    the cart page shows the cut line and says why, on a phone and a laptop."""
    import asyncio

    from domains.cart import client as carts
    from infra.store import schema

    row = orders_web.store.get(schema.STOCK.name, {"sku": order_variant.blank_sku})
    await carts.add_item(orders_web.client, orders_web.new_cart_id(), order_variant.id, 17)  # 3 of 20 left
    orders_web.store.put(schema.STOCK.name, {**row, "available": 100})  # the row has not caught up
    added = await run(Client().post, "/api/cart/items", {"variant_id": order_variant.id, "quantity": 5},
                      content_type="application/json")
    assert added.status_code == 201 and added.json()["item_count"] == 5
    cart_id = added["X-Cart-Id"]
    for _ in range(100):
        if (await carts.get_cart(orders_web.client, cart_id)).notice:
            break
        await asyncio.sleep(0.1)
    with chromium(*size, console_log=True) as driver:
        seen = await run(cut_cart_on_a_phone, driver, live_shop, cart_id)
    assert seen["fits"][0] <= seen["fits"][1], seen["fits"]
    assert seen["notice"].startswith("only 3 of ") and seen["on screen"], seen
    assert seen["quantity"] == "3" and seen["console"] == []


def error_pages(driver, site: str) -> dict:
    from selenium.webdriver.common.by import By

    seen = {}
    for path in ("/shop/no-such-page", "/admin/no-such-page"):
        driver.get(site + path)
        page = driver.find_element(By.ID, "error-page")
        seen[path] = {
            "status": page.get_attribute("data-status"),
            "heading": driver.find_element(By.TAG_NAME, "h1").text,
            "styled": driver.execute_script(
                "return getComputedStyle(document.querySelector('.oops .code')).fontSize"),
            "header": driver.execute_script("return getComputedStyle(document.querySelector('header.top')).display"),
            "fits": driver.execute_script(FITS),
            "favicon": driver.execute_script(
                "return fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])"),
        }
    return seen


async def test_404_pages_are_styled_in_their_layout_and_the_favicon_is_served(shop):
    with served_shop() as site, chromium(*PHONE) as driver:
        seen = await run(error_pages, driver, site)
    for path, page in seen.items():
        assert page["status"] == "404" and "find that page" in page["heading"], path
        assert page["styled"] == "64px" and page["header"] == "flex", path  # the stylesheet applies
        assert page["fits"][0] <= page["fits"][1], path
        assert page["favicon"] == [200, "image/x-icon"], path
