"""The staff admin panel (our own pages)."""
