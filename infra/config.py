"""Configuration read from the environment, with defaults for the embedded stack.

One place for every variable the processes read (web, worker, management commands),
so the worker never needs Django settings and Django settings never re-parse env.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _env(name, default).lower()
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _flag(name: str, default: bool) -> bool:
    value = _env(name, "1" if default else "0").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={value!r}: expected 1 or 0")


def inventory_shards() -> int:
    """How many inventory shard workflows hold the shop's stock (COMMERCE_INVENTORY_SHARDS,
    default 8). Every process must read the same number: a SKU's shard is its hash modulo this
    (docs/domains/inventory.md says how to change it)."""
    value = int(_env("COMMERCE_INVENTORY_SHARDS", "8"))
    if not 1 <= value <= 256:
        raise ValueError(f"COMMERCE_INVENTORY_SHARDS={value}: expected 1 to 256")
    return value


def hold_new_patches() -> bool:
    """COMMERCE_HOLD_NEW_PATCHES=1: a rolling release is under way (docs/releases.md)."""
    return _flag("COMMERCE_HOLD_NEW_PATCHES", False)


def _positive(name: str, default: str) -> float:
    value = float(_env(name, default))
    if value <= 0:
        raise ValueError(f"{name}={value}: expected a positive number of seconds")
    return value


@dataclass(frozen=True)
class Config:
    temporal_address: str
    temporal_namespace: str
    temporal_ui_url: str  # where operators' browsers reach the Temporal UI (the ops view links there)
    store_backend: str
    cassandra_hosts: tuple[str, ...]
    cassandra_keyspace: str
    cassandra_replication: str
    cassandra_local_dc: str | None
    search_backend: str
    elasticsearch_url: str
    search_index_prefix: str
    data_dir: Path
    metrics_port: int
    # Email (password reset links): "file" writes each message under data_dir/mail for a person
    # to read; "smtp" sends through the host below; "console" prints it.
    email_backend: str = "file"
    email_host: str = "localhost"
    email_port: int = 25
    email_host_user: str = ""
    email_host_password: str = field(default="", repr=False)
    email_use_tls: bool = False
    default_from_email: str = "shop@localhost"
    # Where shoppers reach the shop: links in emails sent by workers (no request to ask) start with it.
    public_url: str = "http://127.0.0.1:8000"
    mail_dir: Path | None = None  # the file email backend's folder; data_dir/mail when unset
    # How long a web request waits for Temporal (connect and calls together) before it answers
    # 503 with Retry-After: a restarting server must not hang shoppers or the admin.
    request_budget_seconds: float = 5.0
    # Payload encryption keys (infra/payload_codec.py): "kid:base64key,..." with the encrypting one
    # first; empty: the data folder's key file, created on first use.
    codec_keys: str = field(default="", repr=False)
    # The only origin whose pages may call the codec endpoint (/admin/temporal-codec/) from a browser;
    # empty: the origin of temporal_ui_url.
    temporal_ui_origin: str = ""
    # "text" (people: `make run`) or "json" (one object a line, for a log pipeline): infra/logs.py
    log_format: str = "text"
    # The web's /metrics answers a scraper that sends `Authorization: Bearer <token>`; empty:
    # only clients on loopback, and only while no proxy is in front (docs/observability.md).
    web_metrics_token: str = field(default="", repr=False)
    # The worker's Prometheus endpoint listens on this address (0.0.0.0 in a container, where the
    # scraper is on another host); the port is metrics_port.
    metrics_host: str = "127.0.0.1"
    # False (COMMERCE_CODEC_ENCRYPT=0): open sealed payloads but write plain ones, for a rolling
    # release from a release without the codec, whose processes cannot open them (docs/releases.md).
    codec_encrypt: bool = True
    # Which release this process runs (COMMERCE_BUILD_ID, else the checkout's git commit): workers
    # report it to Temporal, so a task's history names the release that ran it.
    build_id: str = ""
    # True (COMMERCE_HOLD_NEW_PATCHES=1): workers take no patch this release introduced
    # (workers/release.py) for new workflows, so the previous release's workers still running
    # beside them can replay everything they write (docs/releases.md).
    hold_new_patches: bool = False
    # How many inventory shard workflows hold the stock (COMMERCE_INVENTORY_SHARDS): the same in
    # every process, since a blank SKU's shard is a stable hash of it modulo this number.
    inventory_shards: int = 8

    @property
    def codec_origin(self) -> str:
        if self.temporal_ui_origin:
            return self.temporal_ui_origin
        parts = urlsplit(self.temporal_ui_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def sqlite_store_path(self) -> Path:
        return self.data_dir / "store.sqlite3"

    @property
    def mail_path(self) -> Path:
        return self.mail_dir or self.data_dir / "mail"

    @property
    def sqlite_search_path(self) -> Path:
        return self.data_dir / "search.sqlite3"


def load_config() -> Config:
    data_dir = Path(_env("COMMERCE_DATA_DIR", str(PROJECT_ROOT / "var"))).resolve()
    return Config(
        temporal_address=_env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
        temporal_namespace=_env("TEMPORAL_NAMESPACE", "default"),
        temporal_ui_url=_env("TEMPORAL_UI_URL", "http://127.0.0.1:8233").rstrip("/"),
        store_backend=_choice("COMMERCE_STORE", "sqlite", ("sqlite", "cassandra")),
        cassandra_hosts=tuple(
            h.strip() for h in _env("CASSANDRA_HOSTS", "127.0.0.1").split(",") if h.strip()
        ),
        cassandra_keyspace=_env("CASSANDRA_KEYSPACE", "commerce"),
        # "SimpleStrategy:1" for one node; "NetworkTopologyStrategy:dc1=3,dc2=3" in production.
        cassandra_replication=_env("CASSANDRA_REPLICATION", "SimpleStrategy:1"),
        cassandra_local_dc=os.environ.get("CASSANDRA_LOCAL_DC") or None,
        search_backend=_choice("COMMERCE_SEARCH", "sqlite", ("sqlite", "elasticsearch")),
        elasticsearch_url=_env("ELASTICSEARCH_URL", "http://127.0.0.1:9200"),
        search_index_prefix=_env("COMMERCE_INDEX_PREFIX", "commerce"),
        data_dir=data_dir,
        metrics_port=int(_env("COMMERCE_METRICS_PORT", "9464")),
        email_backend=_choice("EMAIL_BACKEND", "file", ("file", "smtp", "console")),
        email_host=_env("EMAIL_HOST", "localhost"),
        email_port=int(_env("EMAIL_PORT", "25")),
        email_host_user=_env("EMAIL_HOST_USER", ""),
        email_host_password=_env("EMAIL_HOST_PASSWORD", ""),
        email_use_tls=_env("EMAIL_USE_TLS", "0").lower() in ("1", "true", "yes"),
        default_from_email=_env("DEFAULT_FROM_EMAIL", "shop@localhost"),
        public_url=_env("COMMERCE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        mail_dir=Path(os.environ["COMMERCE_MAIL_DIR"]).resolve() if os.environ.get("COMMERCE_MAIL_DIR") else None,
        request_budget_seconds=_positive("COMMERCE_REQUEST_BUDGET_SECONDS", "5"),
        codec_keys=os.environ.get("COMMERCE_CODEC_KEYS", "").strip(),
        temporal_ui_origin=_env("COMMERCE_TEMPORAL_UI_ORIGIN", "").rstrip("/"),
        log_format=_choice("COMMERCE_LOG_FORMAT", "text", ("text", "json")),
        web_metrics_token=_env("COMMERCE_WEB_METRICS_TOKEN", ""),
        metrics_host=_env("COMMERCE_METRICS_HOST", "127.0.0.1"),
        codec_encrypt=_flag("COMMERCE_CODEC_ENCRYPT", True),
        build_id=_env("COMMERCE_BUILD_ID", ""),
        hold_new_patches=hold_new_patches(),
        inventory_shards=inventory_shards(),
    )
