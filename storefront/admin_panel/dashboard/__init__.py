"""The admin dashboard: a summary read from the orders, inventory, carts and catalog pages' data."""
