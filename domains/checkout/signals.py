"""The signal a checkout sends back to its cart when it ends.

Checkout cannot import the cart's workflow (the cart sits above it), so it declares the
signal here and the cart workflow's handler takes its name from this declaration: the
sender names a method, not a string, and the wire name stays the one recorded histories hold.
"""

from __future__ import annotations

from temporalio import workflow

from .messages import CheckoutEnded

CHECKOUT_ENDED = "checkout_ended"


class CartReports:
    """Implemented by the cart workflow (`CartWorkflow.checkout_ended`)."""

    @workflow.signal(name=CHECKOUT_ENDED)
    def checkout_ended(self, event: CheckoutEnded) -> None:
        raise NotImplementedError  # a declaration only: the cart workflow handles it
