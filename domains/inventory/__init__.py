"""Inventory: one service workflow, the single writer of stock per blank SKU."""
