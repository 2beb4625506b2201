"""Admin identity pages: staff users, API tokens and shop settings."""
