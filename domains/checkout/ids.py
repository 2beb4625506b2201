"""Checkout ids: the n-th checkout of a cart; it also names the checkout's inventory holds."""


def checkout_workflow_id(cart_id: str, number: int) -> str:
    return f"checkout-{cart_id}-{number}"
