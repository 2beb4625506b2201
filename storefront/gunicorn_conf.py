"""gunicorn's configuration for the shop's web process (`-c python:storefront.gunicorn_conf`;
ops/devstack.py and the Dockerfile pass it). It lives in the package, not ops/, because the
image ships only the package.

gunicorn writes `Server: gunicorn` into every response itself, after the application (so no
middleware can remove it), from the module constant `gunicorn.SERVER`. Naming the server
software and its family tells a scanner which exploits to try; the header says only "shop".
`gunicorn.http.wsgi` copies the constant when imported, so both are replaced.
"""

import os
import re
import shutil
import socket
from pathlib import Path

import gunicorn
import gunicorn.http.wsgi

SERVER_NAME = "shop"

gunicorn.SERVER = SERVER_NAME
gunicorn.http.wsgi.SERVER = SERVER_NAME

# gunicorn's access lines end with the request id the app gave the response (X-Request-ID,
# storefront/observability.py), to find the app's lines of a request from its access line.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'

# COMMERCE_LOG_FORMAT=json: gunicorn's own lines (start, stop, worker timeouts, access) as JSON
# objects on stderr like the app's (infra/logs.py), so a log pipeline gets one format.
if os.environ.get("COMMERCE_LOG_FORMAT", "").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "infra.logs.JsonFormatter"}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
                    "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False}},
        "root": {"level": "INFO", "handlers": ["json"]},
    }

# --- Prometheus figures across the worker processes (storefront/observability.py) -----------
# Each gunicorn worker counts in its own files under PROMETHEUS_MULTIPROC_DIR and /metrics sums
# them. The folder must be set before a worker imports prometheus_client (here, in the master,
# before any fork: workers load the app after) and emptied at each start (figures of processes
# gone would be added again). One folder per web process: the host name and port tell two web
# processes apart on one machine or on one shared data volume.


def _metrics_dir(server) -> Path:
    from infra.config import load_config

    chosen = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if chosen:
        return Path(chosen)
    bind = str(server.cfg.bind[0]) if server.cfg.bind else "web"
    port = re.sub(r"[^A-Za-z0-9]+", "-", bind.rsplit(":", 1)[-1])
    return load_config().data_dir / "metrics" / f"web-{socket.gethostname()}-{port}"


def on_starting(server) -> None:
    path = _metrics_dir(server)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # its live gauges go; its counts stay in the sums
