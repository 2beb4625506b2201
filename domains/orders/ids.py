"""Order ids and confirmation codes."""

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: a code read over the phone is not misheard.
CONFIRMATION_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CONFIRMATION_LENGTH = 8


def order_workflow_id(order_id: str) -> str:
    return f"order-{order_id}"


def normalise_confirmation(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")
