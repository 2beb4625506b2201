"""Deterministic ids: a cart's workflow and its inventory holds are named after the cart."""


def cart_workflow_id(cart_id: str) -> str:
    return f"cart-{cart_id}"


def cart_owner(cart_id: str) -> str:
    """Owner name of the cart's inventory holds."""
    return f"cart-{cart_id}"
