"""Identity: shoppers, staff users and their roles, API tokens, and the shop's settings."""
