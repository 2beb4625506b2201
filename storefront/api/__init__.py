"""The JSON APIs (DRF)."""
