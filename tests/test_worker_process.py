"""`python -m workers`: queue selection, Prometheus metrics, graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unknown_queue_is_refused():
    result = subprocess.run([sys.executable, "-m", "workers", "--queues", "catalog,nonsense"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown queues ['nonsense']" in result.stderr


async def test_worker_serves_metrics_and_stops_gracefully_on_sigterm(temporal_env, tmp_path):
    port = free_port()
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host}
    proc = subprocess.Popen([sys.executable, "-m", "workers", "--metrics-port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = ""
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read().decode()
                if "temporal_" in body:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.2)
        assert "temporal_" in body  # the SDK runtime's own metrics (pollers, slots, requests)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "polling catalog" in output and "shutting down" in output
