"""Backups of the embedded stack's files: SQLite databases copied with SQLite's online backup
API, secrets (the key files) copied whole into a folder of their own, to be kept apart from
the data (docs/security.md), a manifest with checksums. The management command
(`manage.py backup`, storefront/management/commands/backup.py) decides what goes in and
rebuilds the indexes after a restore; docs/backup.md says why each file matters.

A database is copied by one `sqlite3.Connection.backup` step over the whole file: that is one
read transaction, so the copy is the database as of one commit even while the shop writes
(in WAL mode, as the store and the dev server's file run, the writers go on meanwhile; in
rollback-journal mode they wait the few milliseconds the copy takes). A plain file copy of a
live database can tear between pages, and misses what still sits in its `-wal` file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup that cannot be made or used: the message says what and why."""


@dataclass(frozen=True)
class Item:
    name: str  # the file's name, in the data folder and in the backup
    role: str  # what it is, for the manifest and the messages
    kind: str  # "sqlite" (online backup API) or "file" (copied whole, owner-only)


def sqlite_copy(source: Path, dest: Path) -> dict[str, int]:
    """`source` as of one commit into a new file `dest` (no `-wal` beside it); returns the
    row count of each table of the copy, checked by `quick_check`."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)  # pages=-1: the whole database in one step, one read transaction
            check = out.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{source.name}: the copy fails SQLite's quick_check: {check}")
            out.execute("PRAGMA journal_mode=DELETE")  # a single file, whatever the source's mode
            tables = [r[0] for r in out.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            return {t: out.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            out.close()
    finally:
        src.close()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _new_folder(path: Path) -> None:
    """Owner-only: the store holds shoppers' personal data, the keys folder the keys."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def create(sources: dict[Item, Path], dest: Path, about: dict[str, Any], keys_dest: Path) -> dict[str, Any]:
    """Copies each source into the new folder `dest` (refused when it exists and is not empty),
    the secrets (kind "secret") into the new folder `keys_dest` instead, and writes the manifest
    last, so a folder without one is an unfinished backup."""
    secrets = [item for item in sources if item.kind == "secret"]
    for folder in (dest, keys_dest) if secrets else (dest,):
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise BackupError(f"{folder} already exists and is not an empty folder: name a new one")
    for folder in (dest, keys_dest) if secrets else (dest,):
        _new_folder(folder)
    files = []
    for item, source in sources.items():
        target = (keys_dest if item.kind == "secret" else dest) / item.name
        entry: dict[str, Any] = {"name": item.name, "role": item.role, "kind": item.kind,
                                 "folder": "keys" if item.kind == "secret" else "backup"}
        if item.kind == "sqlite":
            entry["tables"] = sqlite_copy(source, target)
        else:
            shutil.copyfile(source, target)
            os.chmod(target, 0o600)
        entry |= {"bytes": target.stat().st_size, "sha256": sha256(target)}
        files.append(entry)
    manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), **about,
                "keys_folder": str(keys_dest) if secrets else None, "files": files}
    staged = dest / f".{MANIFEST}.tmp"
    staged.write_text(json.dumps(manifest, indent=2) + "\n")
    staged.replace(dest / MANIFEST)
    return manifest


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of the backup in `source`, its data files (not the secrets kept apart)
    checked against their checksums."""
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupError(f"{source} is not a folder")
    if not path.exists():
        raise BackupError(f"{source} holds no {MANIFEST}: not a backup, or one that did not finish")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as exc:
        raise BackupError(f"{path} is not JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: format {manifest.get('format') if isinstance(manifest, dict) else '?'} "
                          f"is not one this version reads ({FORMAT})")
    for entry in manifest["files"]:
        if entry["folder"] == "backup":
            verify(source / entry["name"], entry)
    return manifest


def verify(file: Path, entry: dict[str, Any]) -> None:
    if not file.exists():
        raise BackupError(f"{file} is missing from the backup")
    if sha256(file) != entry["sha256"]:
        raise BackupError(f"{file} differs from the checksum in the manifest: the backup is damaged")


def place(source: Path, target: Path) -> None:
    """Puts a backed-up file at `target`, replacing what is there in one rename, and removes the
    old database's `-wal`/`-shm` first (SQLite would apply an old log to the new file)."""
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(source, staged)
    os.chmod(staged, source.stat().st_mode & 0o777)
    staged.replace(target)


def remove_database(path: Path) -> None:
    """A database and its side files (an index the restore rebuilds from the store)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def answers(address: str, seconds: float = 1.0) -> bool:
    """Whether something accepts connections at host:port (a running Temporal server)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=seconds):
            return True
    except (OSError, ValueError):
        return False
