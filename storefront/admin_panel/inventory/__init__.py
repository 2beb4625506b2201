"""Admin inventory pages: stock per blank SKU, reservations, and stock adjustments."""
