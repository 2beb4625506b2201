"""Shared by the admin page tests (dashboard, inventory, carts, catalog): Django reading the
test shop's order index, and small page helpers."""

from __future__ import annotations

import re

from ..web.dom import parse
from ..web.orders_helpers import run


def form_key(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


async def page(browser, url: str):
    response = await run(browser.get, url)
    assert response.status_code == 200, response.content.decode()[:500]
    return parse(response.content.decode())


