"""Every response carries the Content-Security-Policy, and no page needs what it forbids.

The policy (storefront/csp.py) allows scripts and styles only from the shop's own static
files. So besides the header, the pages must have no inline <script>, <style>, style=""
attribute or on*="" handler left (the browser would refuse them: a broken page and console
errors; tests/browser/test_csp_browser.py opens the pages in chromium too). Checked twice:
the templates as written, and the pages as rendered (Python code can emit markup too), by
crawling every same-site link a signed-in shopper and an owner can follow.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from storefront.csp import PAGE_POLICY, SVG_POLICY

from ..web import dom
from ..web.accounts import shopper_browser, staff_browser
from ..web.orders_helpers import SHIPPING, place, run

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "storefront" / "templates"
REQUIRED = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
            "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'", "form-action 'self'"]
DATA_SCRIPT = {"application/json"}  # json_script's data blocks are never executed
MAX_PAGES = 120


def inline_problems(html: str) -> list[str]:
    """What in this markup a `script-src 'self'; style-src 'self'` policy would block."""
    problems = []
    for el in dom.parse(html).iter():
        if el.tag == "style":
            problems.append("<style> element")
        if el.tag == "script" and not el.get("src") and el.get("type") not in DATA_SCRIPT:
            problems.append(f"inline <script>: {el.text[:60]!r}")
        for name, value in el.attrs.items():
            if name == "style":
                problems.append(f"<{el.tag} style={value!r}>")
            if name.startswith("on"):
                problems.append(f"<{el.tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                problems.append(f"<{el.tag} {name}={value!r}>")
    return problems


def test_the_policy_is_the_strict_one():
    assert [d.strip() for d in PAGE_POLICY.split(";")] == REQUIRED


def test_no_template_has_inline_styles_scripts_or_handlers():
    found = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.parent.name.endswith("_emails"):
            continue  # emails are read in mail apps, which drop <style> blocks: inline styles are how they are styled
        text = path.read_text()
        problems = inline_problems(re.sub(r"{%.*?%}|{{.*?}}", " t ", text, flags=re.S))  # tags: a placeholder
        problems += [f"on*= handler: {m.group(0)}" for m in re.finditer(r"<[^>]*\son[a-z]+\s*=[^>]*>", text)]
        if problems:
            found[str(path.relative_to(ROOT))] = problems
    assert not found, found


def same_site_links(html: str) -> set[str]:
    links = set()
    for el in dom.parse(html).iter():
        href = el.get("href") if el.tag == "a" else None
        if href and href.startswith("/") and not href.startswith("//"):
            links.add(href.split("#")[0])
    return links


def assets(html: str) -> set[str]:
    page = dom.parse(html)
    return ({el.get("href") for el in page.find_all("link", rel="stylesheet")}
            | {el.get("src") for el in page.find_all("script") if el.get("src")}
            | {el.get("src") for el in page.find_all("img") if (el.get("src") or "").startswith("/")})


def crawl(browser, seeds: list[str], prefix: str) -> tuple[dict[str, list[str]], set[str], int]:
    """Every page reachable from `seeds` under `prefix` (one visit per path, first query kept):
    ({url: problems}, the assets the pages load, how many HTML pages were checked)."""
    problems: dict[str, list[str]] = {}
    loaded: set[str] = set()
    seen_paths: set[str] = set()
    queue, pages = list(seeds), 0
    while queue and pages < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url).path
        if path in seen_paths or "logout" in path:
            continue
        seen_paths.add(path)
        response = browser.get(url)
        policy = response.get("Content-Security-Policy")
        wrong = [] if policy == PAGE_POLICY else [f"Content-Security-Policy: {policy!r}"]
        if response.status_code >= 500:
            wrong.append(f"status {response.status_code}")
        if response.get("Content-Type", "").startswith("text/html") and response.status_code == 200:
            html = response.content.decode()
            pages += 1
            wrong += inline_problems(html)
            loaded |= assets(html)
            queue += [link for link in sorted(same_site_links(html)) if link.startswith(prefix)]
        if wrong:
            problems[url] = wrong
    return problems, loaded, pages


def visit_everything(orders_web, variant_id: str) -> tuple[dict, set[str], int, int]:
    shopper = shopper_browser(orders_web)
    code = place(shopper, variant_id, email=SHIPPING["email"], quantity=1)["confirmation_code"]
    added = shopper.post("/shop/cart/add", {"variant_id": variant_id, "quantity": 1})
    assert added.status_code in (302, 303), added.status_code
    shop_problems, shop_assets, shop_pages = crawl(
        shopper, ["/shop/", "/shop/?q=hoodie", f"/shop/orders/{code}", "/shop/cart", "/shop/checkout",
                  "/shop/account/", "/shop/account/addresses/new/", "/shop/account/password/"], "/shop/")
    from django.test import Client

    anonymous = Client()
    anon_problems, anon_assets, anon_pages = crawl(
        anonymous, ["/shop/account/login/", "/shop/account/signup/", "/shop/account/reset/", "/admin/login/"], "/shop/")
    owner = staff_browser(orders_web, "owner")
    admin_problems, admin_assets, admin_pages = crawl(owner, ["/admin/", f"/admin/orders/{code}"], "/admin/")
    return ({**shop_problems, **anon_problems, **admin_problems}, shop_assets | anon_assets | admin_assets,
            shop_pages + anon_pages, admin_pages)


async def test_every_page_has_the_policy_and_nothing_it_blocks(orders_web, order_variant):
    problems, loaded, shop_pages, admin_pages = await run(visit_everything, orders_web, order_variant.id)
    print(f"checked {shop_pages} shop pages and {admin_pages} admin pages; {len(loaded)} assets")
    assert shop_pages >= 10 and admin_pages >= 10, (shop_pages, admin_pages)
    assert not problems, problems

    from django.test import Client

    client = Client()
    for asset in sorted(loaded):  # every stylesheet, script and image a page loads is served
        response = client.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, asset
        expected = SVG_POLICY if response["Content-Type"].startswith("image/svg+xml") else PAGE_POLICY
        assert response["Content-Security-Policy"] == expected, asset
    assert {"/static/shop/shop.css", "/static/shop/shop.js", "/static/admin_panel/admin.css"} <= loaded


@pytest.mark.parametrize("path", ["/healthz", "/api/search?q=tee", "/api/schema/", "/no/such/page",
                                  "/api/orders/NOPE1234", "/shop/account/", "/admin/orders/"])
def test_other_responses_carry_the_policy_too(client, path):
    response = client.get(path)
    assert response["Content-Security-Policy"] == PAGE_POLICY, (path, response.status_code)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_does_not_announce_itself_and_serves_the_static_files(tmp_path):
    """As `make run` and the image start it: the Server header names no software, and the
    stylesheet comes from whitenoise with the policy on it."""
    from ..test_devstack_shutdown import until

    port = free_port()
    env = {"PATH": str(Path(sys.executable).parent), "COMMERCE_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "storefront.wsgi:application", "-c",
                            "python:storefront.gunicorn_conf", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    answers: list = []

    def fetched() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/shop/shop.css", timeout=2) as response:
                answers.append((response.status, dict(response.headers), response.read()))
                return True
        except OSError:
            return web.poll() is not None

    try:
        until(fetched, 60, "gunicorn answering")
    finally:
        web.terminate()
        web.wait(timeout=30)
    status, headers, body = answers[0]
    assert status == 200 and b".card" in body
    assert "gunicorn" not in headers.get("Server", "").lower(), headers
    assert headers["Content-Security-Policy"] == PAGE_POLICY


def test_a_response_with_its_own_policy_keeps_it_and_svg_images_get_theirs(rf):
    from django.http import HttpResponse

    from storefront.csp import ContentSecurityPolicyMiddleware

    own = HttpResponse("x")
    own["Content-Security-Policy"] = "default-src 'none'"
    assert (ContentSecurityPolicyMiddleware(lambda r: own)(rf.get("/"))["Content-Security-Policy"]
            == "default-src 'none'")
    svg = HttpResponse("<svg/>", content_type="image/svg+xml")
    assert ContentSecurityPolicyMiddleware(lambda r: svg)(rf.get("/"))["Content-Security-Policy"] == SVG_POLICY
