"""What a worker tells Temporal about its release, and the patches it holds back while the
previous release still runs (workers/release.py, docs/releases.md)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.config import load_config
from workers import release

ROOT = Path(__file__).resolve().parents[1]


def _input(patch_id: str):
    info = dataclasses.make_dataclass("Info", [])()  # the callback reads only the patch id
    return release.PatchActivationInput(workflow_info=info, patch_id=patch_id)  # type: ignore[arg-type]


def test_the_build_id_is_the_setting_else_the_commit(monkeypatch):
    monkeypatch.setenv("COMMERCE_BUILD_ID", "2026.12.05-1")
    assert release.build_id(load_config()) == "2026.12.05-1"
    monkeypatch.delenv("COMMERCE_BUILD_ID")
    assert re.fullmatch(r"[0-9a-f]{12}|unversioned", release.build_id(load_config()))
    version = release.deployment("abc").version
    assert (version.deployment_name, version.build_id) == ("commerce", "abc")
    assert release.deployment("abc").use_worker_versioning is False  # reported, never routed on
    assert release.identity("abc").endswith("build abc")


def test_held_patches_are_this_releases_new_ones_only(monkeypatch):
    monkeypatch.delenv("COMMERCE_HOLD_NEW_PATCHES", raising=False)
    assert release.patch_activation(load_config()) is None  # every patch taken
    monkeypatch.setenv("COMMERCE_HOLD_NEW_PATCHES", "1")
    hold = release.patch_activation(load_config())
    assert hold is not None
    assert not any(hold(_input(p)) for p in release.NEW_PATCHES)
    from domains.orders.workflows import WIND_UP_PATCH

    assert hold(_input(WIND_UP_PATCH))  # the previous release has it: taken as before


def test_every_held_patch_is_one_the_workflows_ask_for():
    """NEW_PATCHES names patch ids the code calls `workflow.patched` with (not a stale list)."""
    asked = set()
    for path in (ROOT / "domains").rglob("*.py"):
        text = path.read_text()
        for name in re.findall(r"workflow\.patched\((\w+)\)", text):
            found = re.search(rf'^{name} = "([^"]+)"', text, re.M)
            if found:
                asked.add(found.group(1))
    assert asked >= release.NEW_PATCHES


def test_every_patch_the_previous_release_lacks_is_held():
    """Each patch id the workflows ask for that the previous release's code never names is in
    NEW_PATCHES (a missing one would be written into new workflows while old workers run)."""
    from .test_rolling_release import PREVIOUS_RELEASE

    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: the previous release's code comes from git history")
    listed = subprocess.run([git, "-C", str(ROOT), "ls-tree", "-r", "--name-only", PREVIOUS_RELEASE, "domains"],
                            capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip(f"commit {PREVIOUS_RELEASE} (the previous release) is not in this checkout: a shallow clone?")
    previous = "".join(
        subprocess.run([git, "-C", str(ROOT), "show", f"{PREVIOUS_RELEASE}:{path}"], capture_output=True,
                       text=True, check=True).stdout
        for path in listed.stdout.split() if path.endswith(".py"))
    now = {m for path in (ROOT / "domains").rglob("*.py")
           for m in re.findall(r'^\w+_PATCH = "([^"]+)"', path.read_text(), re.M)}
    assert now, "no patch ids found: the pattern no longer matches how patches are named"
    assert {p for p in now if f'"{p}"' not in previous} <= release.NEW_PATCHES
