"""Temporal's time-skipping test server, one per test: a workflow left behind by an earlier
test (its worker gone) would hold a pending task, and the server does not skip time past
pending work."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment


async def start_skipping() -> WorkflowEnvironment:
    binary = (shutil.which("temporal-test-server", path=str(Path(sys.executable).parent))
              or shutil.which("temporal-test-server"))
    return await WorkflowEnvironment.start_time_skipping(test_server_existing_path=binary,
                                                        data_converter=pydantic_data_converter)
