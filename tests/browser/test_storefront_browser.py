"""The storefront in a real browser (Debian's headless chromium): search, facets, picker."""

from __future__ import annotations

import pytest

from .harness import chromium, served_shop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def site(shop):
    """The real WSGI application on a loopback port (Django holds no database to flush)."""
    with served_shop() as url:
        yield url


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
