"""How many samples the benches take: the real figures for `make bench`, a few under the smoke
test (`COMMERCE_BENCH_SMOKE=1`, `tests/test_bench_smoke.py`), which only proves every bench
still runs to the end."""

from __future__ import annotations

import os
from pathlib import Path

SMOKE = os.environ.get("COMMERCE_BENCH_SMOKE") == "1"


def sized(full: int, smoke: int) -> int:
    return smoke if SMOKE else full


def output_dir() -> Path:
    """Where the figures go; the smoke test points it elsewhere so real figures stay."""
    return Path(os.environ.get("COMMERCE_BENCH_OUT", "var/bench"))
