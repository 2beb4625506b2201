"""Inventory workflow ids: N shard workflows, each the single writer of its blank SKUs' stock,
and the old one-for-the-shop service (`inventory-service`), which hands its state over to the
shards on their first start (docs/domains/inventory.md)."""

from __future__ import annotations

import zlib

INVENTORY_WORKFLOW_ID = "inventory-service"  # the singleton before the shards
SHARD_WORKFLOW_PREFIX = "inventory-shard-"


def shard_of(sku: str, shards: int) -> int:
    """The shard that owns a blank SKU: CRC-32 of its UTF-8 bytes modulo the number of shards.
    Stable across processes and Python versions (unlike `hash`), and usable in workflow code."""
    return zlib.crc32(sku.encode()) % shards


def shard_workflow_id(shard: int) -> str:
    return f"{SHARD_WORKFLOW_PREFIX}{shard}"
