"""The storefront in a real browser (Debian's headless chromium): search, facets, picker."""

from __future__ import annotations

import os
import shutil
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        message = "headless chromium is not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("COMMERCE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(shop):
    """The real WSGI application on a loopback port (Django holds no database to flush)."""
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadedServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_shopper_searches_and_narrows_with_a_facet(browser, site):
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/shop/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("hoodie")
    box.submit()
    total = int(browser.find_element(By.ID, "total").text)
    assert total > 0
    first_brand = browser.find_element(By.CSS_SELECTOR, '[data-facet="brand"] a')
    expected = int(first_brand.find_element(By.CSS_SELECTOR, ".n").text)
    first_brand.click()
    assert int(browser.find_element(By.ID, "total").text) == expected <= total
    assert "brand=" in browser.current_url and "q=hoodie" in browser.current_url


def test_the_variant_picker_switches_colour_in_place(browser, site, shop):
    from selenium.webdriver.common.by import By

    product = next(p for p in shop.products
                   if len({v.color for v in shop.variants if v.product_id == p.id}) >= 2)
    browser.get(f"{site}/shop/products/{product.id}")
    browser.execute_script("window.__samePage = true")
    image = browser.find_element(By.ID, "variant-image").get_attribute("src")
    other = browser.find_elements(By.CSS_SELECTOR, ".swatches a:not(.on)")[0]
    name = other.get_attribute("title")
    other.click()
    assert browser.find_element(By.ID, "color-name").text == name
    assert browser.find_element(By.ID, "variant-image").get_attribute("src") != image
    assert browser.execute_script("return window.__samePage") is True  # no page load happened
    assert "color=" in browser.current_url
