"""Signed links in emails: unsubscribe, restore an abandoned cart, review a delivered order.

Emails are rendered by the cadences worker, which has no request to build URLs from, so
links start with COMMERCE_PUBLIC_URL. Each token is signed with the shop's SECRET_KEY and
its own salt: a token made for one purpose never opens another, and nobody can make one
for an address or cart that is not theirs.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

UNSUBSCRIBE = "cadences.unsubscribe"
RESTORE_CART = "cadences.restore-cart"
REVIEW_ORDER = "cadences.review-order"
RESTORE_MAX_AGE = 60 * 24 * 3600  # a restore link in a late reminder still works for two months
REVIEW_MAX_AGE = 120 * 24 * 3600


def _url(path: str) -> str:
    return f"{settings.COMMERCE.public_url}{path}"


def unsubscribe_token(email: str) -> str:
    return signing.dumps(email.strip().lower(), salt=UNSUBSCRIBE, compress=True)


def unsubscribe_url(email: str) -> str:
    return _url(f"/shop/unsubscribe/{unsubscribe_token(email)}")


def email_of_unsubscribe(token: str) -> str | None:
    """The address an unsubscribe token was made for; None when forged or damaged. No expiry:
    an unsubscribe link in an old email must keep working."""
    try:
        return signing.loads(token, salt=UNSUBSCRIBE)
    except signing.BadSignature:
        return None


def restore_cart_url(cart_id: str) -> str:
    return _url(f"/shop/cart/restore/{signing.dumps(cart_id, salt=RESTORE_CART)}")


def cart_of_restore(token: str) -> str | None:
    try:
        return signing.loads(token, salt=RESTORE_CART, max_age=RESTORE_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None


def review_order_url(order_id: str) -> str:
    return _url(f"/shop/orders/review/{signing.dumps(order_id, salt=REVIEW_ORDER)}")


def order_url(order_id: str) -> str:
    """The link in an order's transactional emails: it opens the order for the browser that
    follows it (the same signed link as the review request's)."""
    return review_order_url(order_id)


def order_of_review(token: str) -> str | None:
    try:
        return signing.loads(token, salt=REVIEW_ORDER, max_age=REVIEW_MAX_AGE)
    except signing.BadSignature:
        return None
