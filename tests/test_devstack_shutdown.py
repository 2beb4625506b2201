"""`make run` (ops/devstack.py) stops everything it started whatever signals arrive meanwhile.

A process manager's SIGTERM to the whole process group reaches devstack twice (directly and
through make); the second one used to interrupt the shutdown and leave the Temporal dev
server holding its port. Here devstack runs in its own process group on a throwaway data
folder and free ports, gets SIGTERM twice back to back and once more while it is stopping,
and afterwards no child (Temporal server, worker, gunicorn and its workers) is left and
every port it opened is free again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on it and a server could bind it again (SO_REUSEADDR, as servers do:
    connections the server closed linger in TIME_WAIT for a minute)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def children_of(pid: int) -> set[int]:
    """Every live descendant of `pid` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent holds no port and does nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f}s: {what}")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running_devstack(tmp_path):
    """`ops/devstack.py` on a throwaway data folder and free ports, serving; yields
    (devstack process, its log, ports). Whatever happens, nothing it started is left behind."""
    grpc, ui, web = free_port(), free_port(), free_port()
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_STORE": "sqlite", "COMMERCE_SEARCH": "sqlite",
           "TEMPORAL_ADDRESS": f"127.0.0.1:{grpc}", "TEMPORAL_UI_PORT": str(ui), "COMMERCE_WEB_PORT": str(web),
           "COMMERCE_METRICS_PORT": "0", "COMMERCE_STOP_SECONDS": "20"}
    # a small catalog first, so devstack's own `load_catalog --if-empty` has nothing to do
    subprocess.run([sys.executable, "manage.py", "load_catalog", "--count", "12"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    log = tmp_path / "devstack.out"
    with open(log, "wb") as out:
        devstack = subprocess.Popen([sys.executable, "ops/devstack.py"], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
    seen: set[int] = set()
    try:
        until(lambda: answers(f"http://127.0.0.1:{web}/healthz") or devstack.poll() is not None,
              STARTUP_SECONDS, "the web server answering")
        assert devstack.poll() is None, log.read_text()
        seen |= children_of(devstack.pid)
        yield devstack, log, (grpc, ui, web)
    finally:  # whatever happened, leave nothing behind for the next test
        leftovers = children_of(devstack.pid) | seen
        if devstack.poll() is None:
            os.killpg(devstack.pid, signal.SIGKILL)
        for pid in leftovers:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
    except OSError:
        return ""


def test_sigterm_twice_to_the_group_stops_every_child_and_frees_the_ports(tmp_path):
    with running_devstack(tmp_path) as (devstack, log, (grpc, ui, web)):
        children = children_of(devstack.pid)
        commands = " ".join(command_of(pid) for pid in children)
        assert "temporal" in commands and "workers" in commands and "gunicorn" in commands, commands
        assert not port_is_free(grpc) and not port_is_free(web)

        os.killpg(devstack.pid, signal.SIGTERM)  # what a process manager sends; make forwards it again
        os.killpg(devstack.pid, signal.SIGTERM)
        until(lambda: b"stopping" in log.read_bytes() or devstack.poll() is not None, 60, "the shutdown starting")
        if devstack.poll() is None:
            os.killpg(devstack.pid, signal.SIGTERM)  # and once more while it is stopping
        devstack.wait(timeout=120)

        output = log.read_text(errors="replace")
        left = sorted(pid for pid in children if alive(pid))
        assert not left, f"still running: {left}\n{output}"
        busy = [port for port in (grpc, web, ui) if not port_is_free(port)]
        assert not busy, f"ports still taken: {busy}\n{output}"
        assert devstack.returncode == 0, output


def test_a_killed_worker_is_started_again_and_the_shop_keeps_taking_carts(tmp_path):
    """A worker SIGKILLed under `make run` used to take the whole shop down with it."""
    with running_devstack(tmp_path) as (devstack, log, (_grpc, _ui, web)):
        def workers() -> set[int]:
            return {pid for pid in children_of(devstack.pid) if "-m workers" in command_of(pid) and alive(pid)}

        [first] = workers()
        os.kill(first, signal.SIGKILL)
        until(lambda: workers() - {first} or devstack.poll() is not None, 60, "a new worker")
        assert devstack.poll() is None, log.read_text(errors="replace")
        time.sleep(5)  # long enough for a second restart, had one been made
        assert devstack.poll() is None, log.read_text(errors="replace")
        assert len(workers()) == 1  # one worker again, not one more per second
        assert log.read_text(errors="replace").count("starting it again") == 1
        assert "worker exited with -9; starting it again" in log.read_text(errors="replace")

        def get(path: str) -> dict:
            with urllib.request.urlopen(f"http://127.0.0.1:{web}{path}", timeout=30) as answer:
                return json.loads(answer.read())

        product = get("/api/search?page_size=1")["hits"][0]["id"]
        variant = next(v["id"] for v in get(f"/api/products/{product}")["variants"] if v.get("available", True))
        request = urllib.request.Request(f"http://127.0.0.1:{web}/api/cart/items", method="POST",
                                         data=json.dumps({"variant_id": variant, "quantity": 1}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:  # a workflow update: the new worker ran it
            assert answer.status == 201 and json.loads(answer.read())["item_count"] == 1  # a new cart


def test_with_an_external_temporal_that_is_not_there_it_says_so_and_starts_no_dev_server(tmp_path):
    """`make run-cluster` runs devstack on the cluster of `make cluster`; without it, devstack
    stops at once naming the address, instead of starting a dev server in the cluster's place."""
    grpc, web = free_port(), free_port()
    env = {**os.environ, "COMMERCE_DATA_DIR": str(tmp_path), "COMMERCE_EXTERNAL_TEMPORAL": "1",
           "TEMPORAL_ADDRESS": f"127.0.0.1:{grpc}", "COMMERCE_WEB_PORT": str(web), "COMMERCE_METRICS_PORT": "0"}
    done = subprocess.run([sys.executable, "ops/devstack.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert f"no Temporal server at 127.0.0.1:{grpc}" in done.stderr
    assert port_is_free(grpc) and port_is_free(web)
    assert not (tmp_path / "logs" / "temporal.log").exists()
