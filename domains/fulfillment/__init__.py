"""Fulfillment: one workflow per order, one child per supplier order, each with its supplier's strategy."""
