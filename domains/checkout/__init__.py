"""Checkout: a child workflow of the cart, a guarded step machine, and the placement saga."""
