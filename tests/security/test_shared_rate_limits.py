"""Rate limits hold across web processes: two real gunicorn servers on one write store
share one count, so sign-ins (and guest order lookups by `X-Order-Email`) split between
them are refused at the limit, with 429, a stable code and Retry-After."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from infra.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
SIGN_IN_LIMIT = 6
LOOKUP_LIMIT = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the web server exited"
        try:
            requests.get(f"{base}/admin/login/", timeout=15)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(f"{base} never answered")


@pytest.fixture
def two_web_processes(tmp_path):
    """Two gunicorn servers (separate processes, one worker each) on one data folder."""
    SqliteStore(tmp_path / "store.sqlite3").create_schema()
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": f"127.0.0.1:{_free_port()}",  # nothing here needs Temporal
           "COMMERCE_SIGN_IN_RATE": f"{SIGN_IN_LIMIT}/hour", "COMMERCE_ORDER_LOOKUP_RATE": f"{LOOKUP_LIMIT}/hour",
           "DJANGO_SECRET_KEY": "rate-limit-test-secret-" + "x" * 40}
    servers = []
    try:
        for _ in range(2):
            port = _free_port()
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "storefront.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", "--worker-class", "gthread", "--threads", "4"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            servers.append((f"http://127.0.0.1:{port}", proc))
        for base, proc in servers:
            _wait_for(base, proc)
        _clear_of_a_window_edge()
        yield [base for base, _ in servers]
    finally:
        for _, proc in servers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)


def _clear_of_a_window_edge() -> None:
    """Windows are fixed hours: a test run must not straddle one (it takes seconds)."""
    into_hour = time.time() % 3600
    if into_hour > 3600 - 60:
        time.sleep(3600 - into_hour + 1)


def _sign_in(session: requests.Session, base: str) -> requests.Response:
    page = session.get(f"{base}/admin/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(f"{base}/admin/login/", timeout=10, allow_redirects=False,
                        data={"csrfmiddlewaretoken": token, "email": "nobody@example.com", "password": "wrong-guess-1"},
                        headers={"Referer": f"{base}/admin/login/", "Origin": base})


def test_sign_ins_split_across_two_processes_are_refused_at_the_limit(two_web_processes):
    sessions = {base: requests.Session() for base in two_web_processes}
    answers = []
    for n in range(SIGN_IN_LIMIT + 4):
        base = two_web_processes[n % 2]
        answers.append(_sign_in(sessions[base], base))
    assert [r.status_code for r in answers] == [401] * SIGN_IN_LIMIT + [429] * 4
    for refused in answers[SIGN_IN_LIMIT:]:
        assert 'data-code="too_many_attempts"' in refused.text
        assert 0 < int(refused.headers["Retry-After"]) <= 3600


def test_guest_order_lookups_by_header_are_limited_across_processes(two_web_processes):
    answers = []
    for n in range(LOOKUP_LIMIT + 3):
        base = two_web_processes[n % 2]
        answers.append(requests.get(f"{base}/api/orders/ABCD-EFGH", timeout=10,
                                    headers={"X-Order-Email": f"guess{n}@example.com"}))
    assert [r.status_code for r in answers] == [404] * LOOKUP_LIMIT + [429] * 3
    for refused in answers[LOOKUP_LIMIT:]:
        assert refused.json()["code"] == "throttled" and int(refused.headers["Retry-After"]) > 0
