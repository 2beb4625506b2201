"""Admin order pages: the filtered list, one order, and the staff actions on it."""
