"""/metrics under gunicorn with several worker processes: the figures are the sums over all of
them (prometheus_client's multiprocess mode, storefront/gunicorn_conf.py), not one worker's
share, and each start begins from zero. With COMMERCE_LOG_FORMAT=json every line the web process
writes is a JSON object, the app's request lines with their request id."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 3
REQUESTS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(port: int, data: Path, log) -> subprocess.Popen:
    env = {**os.environ, "COMMERCE_DATA_DIR": str(data), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "COMMERCE_LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "storefront.settings"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([
        sys.executable, "-m", "gunicorn", "storefront.wsgi:application", "-c", "python:storefront.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread", "--workers", str(WORKERS), "--threads", "2",
    ], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:  # (a probe that times out is still answered later: it must not count as a favicon)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise AssertionError("gunicorn exited") from None
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def favicon_count(port: int) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(s.value for family in text_string_to_metric_families(body) for s in family.samples
               if s.name == "commerce_http_responses_total" and s.labels.get("route") == "favicon.ico")


def test_metrics_sum_every_worker_process_and_start_from_zero(tmp_path):
    port = free_port()
    log_path = tmp_path / "web.log"
    for start in range(2):
        with open(log_path, "ab") as log:
            proc = start_web(port, tmp_path, log)
        try:
            for i in range(REQUESTS):  # a new connection each: the workers share them out
                request = urllib.request.Request(f"http://127.0.0.1:{port}/favicon.ico",
                                                 headers={"X-Request-ID": f"probe-{start}-{i}"})
                urllib.request.urlopen(request, timeout=5).read()
            # every request, whichever worker answered it or the scrape; the second start from zero
            assert favicon_count(port) == REQUESTS, f"start {start}"
            folders = list((tmp_path / "metrics").iterdir())
            assert len(folders) == 1 and folders[0].name.endswith(f"-{port}")
        finally:
            stop(proc)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]  # each one parses
    probes = [line for line in lines if line["logger"] == "commerce.requests"
              and line.get("request_id", "").startswith("probe-")]
    assert len(probes) == 2 * REQUESTS
    assert {line["route"] for line in probes} == {"favicon.ico"}
    assert any(line["logger"].startswith("gunicorn") for line in lines)
