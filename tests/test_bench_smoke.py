"""`make bench` in miniature: every bench runs to the end with a few samples each, so a bench
that no longer starts (a moved module, a renamed call, a missing setting) fails `make test`.
The figures it prints mean nothing; the real ones come from `make bench`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# one file per bench (tests/bench.py)
FIGURES = ("search", "search_scale", "cart", "flash", "orders", "admin", "cadences", "webhooks", "cluster")


@pytest.mark.temporal
def test_every_bench_runs_with_a_few_samples(tmp_path):
    # a process of its own, as `make bench` runs it: the benches set up Django and their own
    # Temporal dev servers, which must not meet this test session's
    env = {**os.environ, "COMMERCE_BENCH_SMOKE": "1", "COMMERCE_BENCH_OUT": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "storefront.settings"}
    run = subprocess.run([sys.executable, "-m", "tests.bench"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=240)
    assert run.returncode == 0, f"make bench failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    for name in FIGURES:
        assert json.loads((tmp_path / f"{name}.json").read_text()), f"{name}.json is empty"
    cluster = json.loads((tmp_path / "cluster.json").read_text())
    if "skipped" in cluster:  # no cluster on this machine: said so, and `make bench` went on to the end
        assert "skipped: no cluster (make cluster)" in run.stdout
        assert cluster["dev_only"]["orders"], "the shop bench did not run on the dev server"
