"""`make run`: the whole shop on the embedded stack, in one terminal.

Starts a durable Temporal dev server (its SQLite file in the data folder, so workflows
survive a restart), loads the catalog on the first run, starts the worker process and
the web server, prints the URLs, and on Ctrl-C stops everything it started, newest first.
With COMMERCE_EXTERNAL_TEMPORAL=1 (`make run-cluster`) it uses the Temporal server already at
TEMPORAL_ADDRESS (`make cluster`, docs/cluster.md) and starts none.

Topology: `make run` starts one worker (every queue) and one web process. The cluster topology
(COMMERCE_TOPOLOGY=cluster, the default with COMMERCE_EXTERNAL_TEMPORAL=1) is production's
shape on one machine: two worker processes split by task queue (the shopper-facing
inventory, cart and checkout apart from the rest, metrics on COMMERCE_METRICS_PORT and the
next port) and two web processes (COMMERCE_WEB_PORT and the next port), each started again
when it dies. docs/cluster.md maps it onto several machines.

Stopping finishes whatever signals arrive meanwhile: a process manager's SIGTERM to the
whole group reaches this process twice (directly and through `make`), and a second signal
that interrupted the shutdown used to leave the Temporal server holding its port. The first
SIGTERM/SIGINT starts the shutdown; later ones are noted and ignored. Each child gets SIGTERM
and STOP_SECONDS to exit (the worker lets running activities finish), then SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domains.queues import ALL as ALL_QUEUES  # noqa: E402
from domains.queues import CART, CHECKOUT, INVENTORY  # noqa: E402
from infra.config import load_config  # noqa: E402 (after the sys.path line above: run as a script)

WEB_PORT = int(os.environ.get("COMMERCE_WEB_PORT", "8000"))
METRICS_PORT = int(os.environ.get("COMMERCE_METRICS_PORT", "9464"))
UI_PORT = int(os.environ.get("TEMPORAL_UI_PORT", "8233"))
# `make run-cluster`: the Temporal server is already running (`make cluster`, docs/cluster.md);
# use it at TEMPORAL_ADDRESS and start no dev server.
EXTERNAL_TEMPORAL = os.environ.get("COMMERCE_EXTERNAL_TEMPORAL") == "1"
TOPOLOGY = os.environ.get("COMMERCE_TOPOLOGY", "").strip() or ("cluster" if EXTERNAL_TEMPORAL else "single")
if TOPOLOGY not in ("single", "cluster"):
    raise SystemExit(f"COMMERCE_TOPOLOGY={TOPOLOGY!r}: expected single or cluster")
# The cluster topology's split: the queues a shopper waits on (a cart add holds stock, a submit
# confirms it) in one worker process, so a slow fulfillment, webhook or cadence backlog never
# takes their activity slots; everything else in the other. Each scales on its own.
SHOPPER_QUEUES = (INVENTORY, CART, CHECKOUT)
BACKGROUND_QUEUES = tuple(q for q in ALL_QUEUES if q not in SHOPPER_QUEUES)
# the worker's graceful shutdown is 10 s (workers/__main__.py): longer than that, then SIGKILL
STOP_SECONDS = float(os.environ.get("COMMERCE_STOP_SECONDS", "20"))
# A worker holds no state (Temporal hands its work to the next one), so one that dies is started
# again, as a process manager would; more deaths than this within RESTART_WINDOW is no blip: stop.
# In the cluster topology a web process that dies is started again too (the other one keeps
# answering meanwhile), as the process manager of each machine would.
MAX_RESTARTS, RESTART_WINDOW = 5, 60.0


def workers_plan(topology: str) -> list[tuple[str, list[str]]]:
    """(name, arguments after `python -m workers`) of each worker process."""
    if topology == "single":
        return [("worker", [])]
    return [("worker-shopper", ["--queues", ",".join(SHOPPER_QUEUES), "--metrics-port", str(METRICS_PORT)]),
            ("worker-background", ["--queues", ",".join(BACKGROUND_QUEUES), "--metrics-port", str(METRICS_PORT + 1)])]


def web_plan(topology: str) -> list[tuple[str, int, str]]:
    """(name, port, access log file) of each web process."""
    if topology == "single":
        return [("web", WEB_PORT, "access.log")]
    return [("web-1", WEB_PORT, f"access-{WEB_PORT}.log"), ("web-2", WEB_PORT + 1, f"access-{WEB_PORT + 1}.log")]


def restartable(topology: str) -> set[str]:
    """The processes started again when they die: the workers; in the cluster topology the web
    processes too."""
    names = {name for name, _args in workers_plan(topology)}
    return names | {name for name, _port, _log in web_plan(topology)} if topology == "cluster" else names


class Shutdown:
    """SIGTERM/SIGINT handling that a second signal cannot interrupt.

    The first signal raises KeyboardInterrupt in the main loop (so a start in progress is
    abandoned); once stopping has begun, by a signal or because a child died, further
    signals only print a note."""

    def __init__(self) -> None:
        self.stopping = False
        self._holding = False
        self._pending = False

    @contextmanager
    def held(self) -> Iterator[None]:
        """A signal during the block takes effect when it ends (not a blocked signal mask:
        children would inherit it and ignore SIGTERM)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending:
            self._pending = False
            self.stopping = True
            raise KeyboardInterrupt

    def install(self) -> None:
        # Explicit handlers: a shell may start us with SIGINT ignored (background jobs).
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def begin(self) -> None:
        self.stopping = True

    def _on_signal(self, signum, _frame) -> None:
        if self.stopping:  # os.write: print() here could re-enter a print the shutdown is doing
            os.write(2, f"{signal.Signals(signum).name} while stopping: still stopping\n".encode())
            return
        if self._holding:
            self._pending = True
            return
        self.stopping = True
        raise KeyboardInterrupt


def stop(name: str, proc: subprocess.Popen, seconds: float = STOP_SECONDS) -> None:
    """SIGTERM to the child's process group, up to `seconds` to exit, then SIGKILL."""
    if proc.poll() is None:
        print(f"stopping {name}…", flush=True)
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {seconds:.0f}s: killing it", file=sys.stderr, flush=True)
    _signal_group(proc, signal.SIGKILL)  # also whatever the child left behind in its group
    proc.wait()


def _signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)  # each child leads its own session (start_new_session)
    except ProcessLookupError:
        pass


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
    commands: dict[str, tuple[list[str], str | None]] = {}

    def start(name: str, argv: list[str], log: str | None = None) -> subprocess.Popen:
        out = open(data / "logs" / log, "ab") if log else None  # noqa: SIM115 - closed with the process
        with shutdown.held():  # a stop never misses a child just started
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if out else None,
                                    start_new_session=True)
            commands[name] = (argv, log)
            started.append((name, proc))
        return proc

    def restart(name: str) -> None:
        """Start `name` again in its place in the stop order."""
        place = next(i for i, (n, _p) in enumerate(started) if n == name)
        start(name, *commands[name])
        started[place] = started.pop()  # the new process replaces the dead one

    def stop_all() -> None:
        """Newest first, each one gone before the next: the web stops taking requests, the
        worker finishes its activities while the Temporal server is still up, the server last."""
        shutdown.begin()  # from here on a signal cannot interrupt the stopping
        while started:
            name, proc = started.pop()
            stop(name, proc)

    shutdown = Shutdown()
    shutdown.install()
    try:
        if EXTERNAL_TEMPORAL:
            try:
                socket.create_connection((host, int(port or 7233)), timeout=2).close()
            except OSError:
                raise SystemExit(f"no Temporal server at {config.temporal_address} (make cluster starts one)") from None
        elif config.temporal_address.startswith(("127.0.0.1", "localhost")):
            server = start("temporal", [
                temporal, "server", "start-dev", "--db-filename", str(data / "temporal.sqlite"),
                "--ip", host, "--port", port or "7233", "--ui-port", str(UI_PORT),
                # the UI opens the shop's sealed payloads through the web's codec endpoint (docs/security.md)
                "--ui-codec-endpoint", f"http://127.0.0.1:{WEB_PORT}/admin/temporal-codec",
                "--namespace", config.temporal_namespace, "--log-level", "warn",
                # WAL: `manage.py backup create` reads a consistent copy while the server keeps writing
                # (in the default rollback journal its writes would wait for the copy; docs/backup.md)
                "--sqlite-pragma", "journal_mode=wal",
                # Temporal's default limits: the inventory is sharded (docs/domains/inventory.md)
            ], "temporal.log")
            wait_for_port(host, int(port or 7233), 60, server, "temporal dev server")
            os.environ.setdefault("TEMPORAL_UI_URL", f"http://{host}:{UI_PORT}")  # the ops view links here
        subprocess.run([python, "manage.py", "load_catalog", "--if-empty"], cwd=ROOT, check=True)
        # the embedded stack's webhook receivers are on this machine: let deliveries reach them
        os.environ.setdefault("COMMERCE_WEBHOOKS_ALLOW_PRIVATE", "1")
        for name, args in workers_plan(TOPOLOGY):
            start(name, [python, "-m", "workers", *args], f"{name}.log")
        webs = []
        for name, port, access_log in web_plan(TOPOLOGY):
            webs.append((name, port, start(name, [
                python, "-m", "gunicorn", "storefront.wsgi:application", "-c", "python:storefront.gunicorn_conf",
                "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread", "--workers", "2",
                "--threads", "8", "--access-logfile", str(data / "logs" / access_log),
            ], f"{name}.log")))
        for name, port, web in webs:
            wait_for_port("127.0.0.1", port, 60, web, name)
        base = f"http://127.0.0.1:{WEB_PORT}"
        others = "".join(f"\n  Storefront    http://127.0.0.1:{port}/shop/ ({name})" for name, port, _ in webs[1:])
        print(f"""
  Storefront    {base}/shop/{others}
  Admin panel   {base}/admin/
  Search API    {base}/api/search?q=hoodie
  API schema    {base}/api/schema/
  Health        {base}/healthz
  Temporal UI   {os.environ.get("TEMPORAL_UI_URL", config.temporal_ui_url)}

  Staff sign-in needs a staff user:  .venv/bin/python manage.py createstaff you@example.com --role owner
  Logs in {data / 'logs'}. Ctrl-C stops everything.
""", flush=True)
        restarts: list[float] = []
        while True:
            time.sleep(1)
            dead = [(n, p.returncode) for n, p in started if p.poll() is not None]
            if not dead:
                continue
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < RESTART_WINDOW]
            if any(n not in restartable(TOPOLOGY) for n, _rc in dead) or len(restarts) >= MAX_RESTARTS:
                names = ", ".join(n for n, _rc in dead)
                print(f"{names} stopped unexpectedly; see {data / 'logs'}", file=sys.stderr, flush=True)
                return 1
            for name, code in dead:
                print(f"{name} exited with {code}; starting it again", file=sys.stderr, flush=True)
                restart(name)
                restarts.append(now)
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
