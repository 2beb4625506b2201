"""Routes that links in emails open: unsubscribe, restore a cart, review an order."""

from django.urls import path

from . import email_links_pages as pages

urlpatterns = [
    path("unsubscribe/<str:token>", pages.unsubscribe, name="shop-unsubscribe"),
    path("cart/restore/<str:token>", pages.restore_cart, name="shop-cart-restore"),
    path("orders/review/<str:token>", pages.review_order, name="shop-order-review"),
]
