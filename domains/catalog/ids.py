"""Deterministic workflow ids of the catalog domain."""

REINDEX_WORKFLOW_ID = "catalog-reindex"  # one rebuild at a time
