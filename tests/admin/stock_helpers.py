"""Shared by the dashboard and stock page tests: Django reading the test shop's order index,
and small page helpers."""

from __future__ import annotations

import asyncio
import re

import pytest

from ..web.dom import parse
from ..web.orders_helpers import run


@pytest.fixture
def admin_shop(orders_web):
    """`orders_web`, whose order workers write the order index Django reads."""
    return orders_web


def form_key(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


async def page(browser, url: str):
    response = await run(browser.get, url)
    assert response.status_code == 200, response.content.decode()[:500]
    return parse(response.content.decode())


async def eventually(read, predicate, seconds: float = 30):
    """Poll `await read()` until `predicate(value)` holds (projections land a moment later)."""
    value = None
    for _ in range(int(seconds / 0.25)):
        value = await read()
        if predicate(value):
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"never got there; last: {value!r}"[:2000])
