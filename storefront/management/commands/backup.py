"""`python manage.py backup create DEST` / `backup restore SRC`: the embedded stack's data
folder, backed up while the shop runs and restored into a stopped one (docs/backup.md).

`create` copies, into the new folder DEST: the write store (store.sqlite3) and the dev
server's Temporal database (temporal.sqlite, or --temporal-db), each with SQLite's online
backup API (one read transaction: consistent while the shop writes), and manifest.json (what,
when, which versions, each file's checksum and table counts, the codec key ids the payloads
need). The payload codec key file (codec-keys: without it no workflow's inputs, results or
state can be read) and the Django secret key file (sessions, signed cookies) go to a folder of
their own, --keys-to (default DEST-keys), to be kept apart from the data: a key stored beside
Temporal's database protects nothing (docs/security.md). The search and order indexes are not
copied: `restore` rebuilds them from the store.

`restore SRC` checks the manifest and checksums and that the codec keys the backup needs are
at hand (COMMERCE_CODEC_KEYS, or the key file in --keys-from, default SRC-keys), puts the files into the data
folder and rebuilds the product index (the routine the `reindex` workflow runs, here without
Temporal: the shop is stopped) and the order index. It refuses while a Temporal server answers
at TEMPORAL_ADDRESS or while the data folder already holds a store or Temporal database,
unless --force.

Exit codes: 2 for a refused request or an unusable backup (the message says which), 3 when the
restore would overwrite a running shop or existing data (--force overrides). --json prints one
JSON object, on failure {"error": CODE, "message": ...} with the same exit code.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from domains.catalog.loader import reindex_from_store
from domains.orders.projection import rebuild_order_index
from infra import backup
from infra.backup import BackupError, Item
from infra.config import PROJECT_ROOT, Config
from infra.payload_codec import KEY_FILE, CodecError, parse_keys
from infra.store import open_store
from projections.orders import open_order_index
from projections.search import open_index

STORE = Item("store.sqlite3", "write store (orders, stock, accounts, sessions, settings, cart events)", "sqlite")
TEMPORAL = Item("temporal.sqlite", "Temporal dev server state (every workflow's history: open carts, "
                                   "checkouts, running orders, the inventory service)", "sqlite")
CODEC_KEYS = Item(KEY_FILE, "payload codec keys (Temporal payloads cannot be read without them)", "secret")
SECRET_KEY = Item("secret_key", "Django secret key (sessions and signed cookies)", "secret")
NOT_INCLUDED = {
    "search.sqlite3": "product search index: rebuilt from the store by restore (or `manage.py reindex`)",
    "orders_index.sqlite3": "order index of the admin lists: rebuilt from the store by restore",
    "logs/, mail/": "logs and the file email backend's outbox",
}


class Refused(StrEnum):
    """The `error` of a --json failure: stable, for scripts."""

    NOT_EMBEDDED = "store_not_embedded"
    NO_STORE = "no_store"
    NO_TEMPORAL_STATE = "no_temporal_state"
    DESTINATION_NOT_EMPTY = "destination_not_empty"
    INVALID_BACKUP = "invalid_backup"
    CODEC_KEYS_MISSING = "codec_keys_missing"
    SHOP_RUNNING = "shop_running"
    DATA_PRESENT = "data_present"


class Failed(Exception):
    def __init__(self, code: Refused, message: str, returncode: int = 2):
        super().__init__(message)
        self.code, self.returncode = code, returncode


class Command(BaseCommand):
    help = "Back up the embedded stack's data folder while the shop runs, or restore one into a stopped shop."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="back up the store, Temporal's file and the keys into a new folder")
        create.add_argument("dest", metavar="DEST", help="a new (or empty) folder")
        create.add_argument("--keys-to", metavar="KEYDIR",
                            help="a new folder for the key files (default: DEST-keys); keep it apart from DEST")
        create.add_argument("--without-temporal", action="store_true",
                            help="no Temporal database (the shop runs on `make cluster`: see docs/backup.md)")
        restore = sub.add_parser("restore", help="put a backup into the data folder and rebuild the indexes")
        restore.add_argument("source", metavar="SRC", help="a folder made by `backup create`")
        restore.add_argument("--keys-from", metavar="KEYDIR",
                             help="the backup's key folder (default: SRC-keys, else the one the manifest names)")
        restore.add_argument("--force", action="store_true",
                             help="replace the data folder's store and Temporal database even if they exist or "
                                  "a Temporal server answers (stop the shop first!)")
        for p in (create, restore):
            p.add_argument("--temporal-db", metavar="PATH",
                           help="the dev server's database (default: DATA_DIR/temporal.sqlite, as `make run`)")
            p.add_argument("--json", action="store_true", help="print JSON instead of text")

    def handle(self, *args, **options):
        config: Config = settings.COMMERCE
        temporal_db = Path(options["temporal_db"]) if options["temporal_db"] else config.data_dir / TEMPORAL.name
        try:
            if options["action"] == "create":
                dest = Path(options["dest"])
                keys_to = Path(options["keys_to"]) if options["keys_to"] else dest.with_name(f"{dest.name}-keys")
                result = self._create(config, dest, keys_to, temporal_db, options["without_temporal"])
            else:
                result = self._restore(config, Path(options["source"]),
                                       Path(options["keys_from"]) if options["keys_from"] else None,
                                       temporal_db, options["force"])
        except (Failed, BackupError) as exc:
            code, rc = (exc.code, exc.returncode) if isinstance(exc, Failed) else (Refused.INVALID_BACKUP, 2)
            if options["json"]:
                self.stdout.write(json.dumps({"error": code.value, "message": str(exc)}, indent=2))
            raise CommandError(str(exc), returncode=rc) from None
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, default=str))
        else:
            self.stdout.write(result.pop("_text"))

    # --- create --------------------------------------------------------------------------------

    def _create(self, config: Config, dest: Path, keys_to: Path, temporal_db: Path,
                without_temporal: bool) -> dict[str, Any]:
        if config.store_backend != "sqlite":
            raise Failed(Refused.NOT_EMBEDDED, f"the write store is Cassandra (keyspace {config.cassandra_keyspace}): "
                                               "snapshot it with nodetool, see docs/backup.md")
        if not config.sqlite_store_path.exists():
            raise Failed(Refused.NO_STORE, f"no store at {config.sqlite_store_path}: nothing to back up "
                                           "(is COMMERCE_DATA_DIR right?)")
        # Temporal's file first, then the store: the store is then at least as new as the workflows'
        # histories, and a restored workflow redoes the activities it had not recorded yet, which
        # every activity is written to survive (as after a worker killed between its write and its
        # report). The other order would leave workflows past writes the store never got.
        sources: dict[Item, Path] = {}
        if not without_temporal:
            if not temporal_db.exists():
                raise Failed(Refused.NO_TEMPORAL_STATE,
                             f"no Temporal database at {temporal_db}: without it open carts and running orders "
                             "cannot continue after a restore; --temporal-db PATH names it, --without-temporal "
                             "leaves it out (a cluster's state is backed up on its own, docs/backup.md)")
            sources[TEMPORAL] = temporal_db
        sources[STORE] = config.sqlite_store_path
        key_file = config.data_dir / KEY_FILE
        if key_file.exists():
            sources[CODEC_KEYS] = key_file
        if (config.data_dir / SECRET_KEY.name).exists():
            sources[SECRET_KEY] = config.data_dir / SECRET_KEY.name
        keys_from, key_ids = _keyring_ids(config.codec_keys, key_file)
        try:
            manifest = backup.create(sources, dest, {
                "data_dir": str(config.data_dir), "host": socket.gethostname(),
                "store_backend": config.store_backend, "search_backend": config.search_backend,
                "temporal_namespace": config.temporal_namespace,
                "codec_keys_from": keys_from, "codec_key_ids": key_ids,
                "versions": _versions(), "not_included": NOT_INCLUDED}, keys_to)
        except BackupError as exc:
            raise Failed(Refused.DESTINATION_NOT_EMPTY if "already exists" in str(exc) else Refused.INVALID_BACKUP,
                         str(exc)) from None
        lines = [f"backup in {dest} ({manifest['created_at']}):"]
        lines += [f"  {f['name']:<16} {f['bytes']:>12,} bytes  {f['role']}" for f in manifest["files"]
                  if f["folder"] == "backup"]
        orders = next(f for f in manifest["files"] if f["name"] == STORE.name)["tables"].get("orders", 0)
        lines.append(f"  {orders} orders in the store")
        if manifest["keys_folder"]:
            lines.append(f"key files in {keys_to}: keep them apart from the backup (docs/security.md)")
            lines += [f"  {f['name']:<16} {f['role']}" for f in manifest["files"] if f["folder"] == "keys"]
        if keys_from == "environment":
            lines.append(f"  WARNING: the codec keys ({', '.join(key_ids)}) come from COMMERCE_CODEC_KEYS and are "
                         "NOT in this backup: keep them in your secret store, a restore needs them")
        elif keys_from == "none":
            lines.append("  WARNING: no codec keys found (no COMMERCE_CODEC_KEYS, no key file)")
        return {"backup": str(dest), **manifest, "_text": "\n".join(lines)}

    # --- restore -------------------------------------------------------------------------------

    def _restore(self, config: Config, source: Path, keys_from: Path | None, temporal_db: Path,
                 force: bool) -> dict[str, Any]:
        if config.store_backend != "sqlite":
            raise Failed(Refused.NOT_EMBEDDED, "COMMERCE_STORE is cassandra: this restores the embedded stack "
                                               "(Cassandra snapshots: nodetool import, docs/backup.md)")
        try:
            manifest = backup.read_manifest(source)
        except BackupError as exc:
            raise Failed(Refused.INVALID_BACKUP, str(exc)) from None
        names = {f["name"] for f in manifest["files"]}
        if STORE.name not in names:
            raise Failed(Refused.INVALID_BACKUP, f"{source} holds no {STORE.name}")
        keys_dir = _keys_folder(source, keys_from, manifest)
        kept = {}  # the secrets found in the keys folder, checked against the manifest
        for entry in manifest["files"]:
            if entry["folder"] == "keys" and keys_dir is not None and (keys_dir / entry["name"]).exists():
                backup.verify(keys_dir / entry["name"], entry)
                kept[entry["name"]] = keys_dir / entry["name"]
        self._check_keys(config, manifest, kept)
        if not force:
            if TEMPORAL.name in names and backup.answers(config.temporal_address):
                raise Failed(Refused.SHOP_RUNNING,
                             f"a Temporal server answers at {config.temporal_address}: stop the shop (and its "
                             "dev server) before restoring, or --force", 3)
            present = [p for p in (config.sqlite_store_path, temporal_db) if p.exists()]
            if present:
                raise Failed(Refused.DATA_PRESENT,
                             f"the data folder already holds {', '.join(str(p) for p in present)}: restoring would "
                             "replace it; back it up first, then --force", 3)
        targets = {STORE.name: config.sqlite_store_path, TEMPORAL.name: temporal_db,
                   CODEC_KEYS.name: config.data_dir / KEY_FILE, SECRET_KEY.name: config.data_dir / SECRET_KEY.name}
        restored, not_found = [], []
        for entry in manifest["files"]:
            target, found = targets.get(entry["name"]), kept.get(entry["name"], source / entry["name"])
            if target is not None and found.exists():
                backup.place(found, target)
                restored.append({"name": entry["name"], "to": str(target)})
            elif target is not None:
                not_found.append(entry["name"])  # a key file not in the keys folder (checked above if needed)
        if config.search_backend == "sqlite":  # read models of the old data: rebuilt below from the restored store
            backup.remove_database(config.sqlite_search_path)
            backup.remove_database(config.data_dir / "orders_index.sqlite3")
        store = open_store(config)
        index, order_index = open_index(config), open_order_index(config)
        try:
            generation, products = reindex_from_store(store, index)
            orders = rebuild_order_index(store, order_index)
        finally:
            for closing in (order_index, index, store):
                closing.close()
        text = [f"restored {source} (made {manifest['created_at']} on {manifest.get('host', '?')}) into "
                f"{config.data_dir}:"]
        text += [f"  {r['name']:<16} -> {r['to']}" for r in restored]
        text += [f"  {name:<16} not found in the keys folder: left as it is" for name in not_found]
        text.append(f"  rebuilt the product index ({products} products, {generation}) and the order index "
                    f"({orders} orders) from the store")
        if TEMPORAL.name in names:
            text.append(f"  start the shop (make run) on {temporal_db}: carts and orders continue where they were")
            then, now = manifest.get("versions", {}).get("temporal_cli"), _versions()["temporal_cli"]
            if then and now and then != now:
                text.append(f"  note: the backup was made with {then}, this machine has {now}; the dev server's "
                            "database schema may differ between versions: start it with the backup's version if "
                            "this one refuses the file")
        return {"restored": restored, "not_found": not_found, "backup": str(source),
                "backup_created_at": manifest["created_at"],
                "backup_versions": manifest.get("versions", {}),
                "rebuilt": {"products": products, "product_generation": generation, "orders": orders},
                "_text": "\n".join(text)}

    def _check_keys(self, config: Config, manifest: dict[str, Any], kept: dict[str, Path]) -> None:
        needed = set(manifest.get("codec_key_ids") or [])
        if config.codec_keys:
            have, where = _keyring_ids(config.codec_keys, None)[1], "COMMERCE_CODEC_KEYS"
        elif CODEC_KEYS.name in kept:
            have, where = _keyring_ids("", kept[CODEC_KEYS.name])[1], f"the backup's {KEY_FILE}"
        else:
            have, where = [], "no COMMERCE_CODEC_KEYS and no key file in the keys folder (--keys-from)"
        missing = sorted(needed - set(have))
        if missing:
            raise Failed(Refused.CODEC_KEYS_MISSING,
                         f"Temporal's payloads in this backup are sealed with codec keys {', '.join(missing)}, "
                         f"which {where} lacks: set COMMERCE_CODEC_KEYS to the keys kept with the backup")


def _keys_folder(source: Path, keys_from: Path | None, manifest: dict[str, Any]) -> Path | None:
    if keys_from is not None:
        if not keys_from.is_dir():
            raise Failed(Refused.INVALID_BACKUP, f"--keys-from {keys_from} is not a folder")
        return keys_from
    for candidate in (source.with_name(f"{source.name}-keys"), Path(manifest.get("keys_folder") or source)):
        if candidate.is_dir():
            return candidate
    return None


def _keyring_ids(codec_keys: str, key_file: Path | None) -> tuple[str, list[str]]:
    """Where the shop's codec keys come from and their ids (never the keys)."""
    try:
        if codec_keys.strip():
            return "environment", [kid for kid, _ in parse_keys(codec_keys).keys]
        if key_file is not None and key_file.exists():
            return "key_file", [kid for kid, _ in parse_keys(key_file.read_text()).keys]
    except CodecError as exc:
        raise Failed(Refused.CODEC_KEYS_MISSING, f"the codec keys cannot be read: {exc}") from None
    return "none", []


def _versions() -> dict[str, str | None]:
    def run(*argv: str) -> str | None:
        try:
            out = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None

    temporal = os.path.join(os.path.dirname(sys.executable), "temporal")
    return {"commit": run("git", "rev-parse", "HEAD"), "python": platform.python_version(),
            "temporalio": importlib.metadata.version("temporalio"), "django": importlib.metadata.version("django"),
            "temporal_cli": run(temporal if os.path.exists(temporal) else "temporal", "--version")}
