"""`make run`: the whole shop on the embedded stack, in one terminal.

Starts a durable Temporal dev server (its SQLite file in the data folder, so workflows
survive a restart), loads the catalog on the first run, starts the worker process and
the web server, prints the URLs, and on Ctrl-C stops everything it started, newest first.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domains.config import load_config

WEB_PORT = int(os.environ.get("COMMERCE_WEB_PORT", "8000"))
UI_PORT = int(os.environ.get("TEMPORAL_UI_PORT", "8233"))


def wait_for_port(host: str, port: int, seconds: float, proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode} before it was ready")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not open {host}:{port} within {seconds:.0f}s")


def main() -> int:
    config = load_config()
    data = config.data_dir
    (data / "logs").mkdir(parents=True, exist_ok=True)
    python = sys.executable
    temporal = shutil.which("temporal", path=str(Path(python).parent)) or shutil.which("temporal")
    if not temporal:
        raise SystemExit("the `temporal` CLI is missing: `make install` puts it in .venv/bin")
    host, _, port = config.temporal_address.partition(":")
    started: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, argv: list[str], log: str | None = None) -> subprocess.Popen:
        out = open(data / "logs" / log, "ab") if log else None  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if out else None,
                                start_new_session=True)
        started.append((name, proc))
        return proc

    def stop_all(*_args) -> None:
        for name, proc in reversed(started):
            if proc.poll() is None:
                print(f"stopping {name}…", flush=True)
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in reversed(started):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        started.clear()

    def interrupted(*_args) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a shell may start us with SIGINT ignored (background jobs).
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        if config.temporal_address.startswith(("127.0.0.1", "localhost")):
            server = start("temporal", [
                temporal, "server", "start-dev", "--db-filename", str(data / "temporal.sqlite"),
                "--ip", host, "--port", port or "7233", "--ui-port", str(UI_PORT),
                "--namespace", config.temporal_namespace, "--log-level", "warn",
                # the inventory service takes every shopper's holds: allow more than 10 updates in flight
                "--dynamic-config-value", "history.maxInFlightUpdates=200",
            ], "temporal.log")
            wait_for_port(host, int(port or 7233), 60, server, "temporal dev server")
            os.environ.setdefault("TEMPORAL_UI_URL", f"http://{host}:{UI_PORT}")  # the ops view links here
        subprocess.run([python, "manage.py", "load_catalog", "--if-empty"], cwd=ROOT, check=True)
        start("worker", [python, "-m", "workers"], "worker.log")
        web = start("web", [
            python, "-m", "gunicorn", "storefront.wsgi:application",
            "--bind", f"127.0.0.1:{WEB_PORT}", "--worker-class", "gthread", "--workers", "2",
            "--threads", "8", "--access-logfile", str(data / "logs" / "access.log"),
        ], "web.log")
        wait_for_port("127.0.0.1", WEB_PORT, 60, web, "web server")
        base = f"http://127.0.0.1:{WEB_PORT}"
        print(f"""
  Storefront    {base}/shop/
  Admin panel   {base}/admin/
  Search API    {base}/api/search?q=hoodie
  API schema    {base}/api/schema/
  Health        {base}/healthz
  Temporal UI   http://127.0.0.1:{UI_PORT}

  Staff sign-in needs a staff user:  .venv/bin/python manage.py createstaff you@example.com --role owner
  Logs in {data / 'logs'}. Ctrl-C stops everything.
""", flush=True)
        while all(proc.poll() is None for _n, proc in started):
            time.sleep(1)
        dead = [n for n, p in started if p.poll() is not None]
        print(f"{', '.join(dead)} stopped unexpectedly; see {data / 'logs'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
