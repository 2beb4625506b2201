"""Payments: the simulated gateway, its ledger, charges and refunds."""
