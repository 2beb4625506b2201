"""Carrier tracking numbers in each carrier's usual shape, drawn from the workflow's seeded random."""

from __future__ import annotations

import random
import string

CARRIERS = ("UPS", "USPS", "FedEx", "DHL")


def tracking_number(carrier: str, rng: random.Random) -> str:
    digits = string.digits
    if carrier == "UPS":
        return "1Z" + "".join(rng.choice(string.ascii_uppercase + digits) for _ in range(16))
    if carrier == "USPS":
        return "9400" + "".join(rng.choice(digits) for _ in range(18))
    if carrier == "FedEx":
        return "".join(rng.choice(digits) for _ in range(12))
    return "".join(rng.choice(digits) for _ in range(10))
