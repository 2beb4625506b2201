"""Which release a worker runs, and what it holds back while the previous release's workers
still run beside it (docs/releases.md).

The build id (COMMERCE_BUILD_ID, else the checkout's git commit) goes to Temporal with every
task the worker completes (its deployment version, unversioned: any worker may take any task)
and into its identity, so a workflow's history and `describe` name the release that ran it.

NEW_PATCHES are the `workflow.patched` ids this release introduced. With
COMMERCE_HOLD_NEW_PATCHES=1 a worker takes none of them for a workflow that reaches them for
the first time (it goes the old way and writes no marker), so a worker of the previous
release can replay whatever this one wrote. Replays still follow their histories' markers.
The release checklist moves a patch here when it is added and off when the next release
ships.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable

from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import PatchActivationInput, WorkerDeploymentConfig

from domains.cart.workflows import DEFERRED_HOLD_PATCH
from infra.config import PROJECT_ROOT, Config

DEPLOYMENT = "commerce"
UNKNOWN_BUILD = "unversioned"

# Introduced since the last release (ce7518f): unknown to its workers. One line each.
# ce7518f's own (cart-carried-add, inventory-sweep-when-due, order-backorders) came off when it
# shipped; its workers know them.
NEW_PATCHES = frozenset({
    DEFERRED_HOLD_PATCH,  # an add on ample stock answers before its hold (issue 18)
})


def build_id(config: Config) -> str:
    """COMMERCE_BUILD_ID, else the commit this checkout is at, else "unversioned"."""
    if config.build_id:
        return config.build_id
    try:
        done = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN_BUILD
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else UNKNOWN_BUILD


def identity(build: str) -> str:
    """The worker's identity in histories and `describe`: process, host and release."""
    return f"{os.getpid()}@{socket.gethostname()} build {build}"


def deployment(build: str) -> WorkerDeploymentConfig:
    """The release as the worker's deployment version, without worker versioning: no
    set-current-version step, every worker polls every task as before; the version is recorded."""
    return WorkerDeploymentConfig(version=WorkerDeploymentVersion(deployment_name=DEPLOYMENT, build_id=build),
                                  use_worker_versioning=False)


def _hold_new(patch: PatchActivationInput) -> bool:
    return patch.patch_id not in NEW_PATCHES


def patch_activation(config: Config) -> Callable[[PatchActivationInput], bool] | None:
    """The Worker's patch_activation_callback: None (every patch taken) unless new ones are held."""
    return _hold_new if config.hold_new_patches else None
