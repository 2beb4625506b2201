"""Routes of the admin cart pages."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("carts/", views.carts_list, name="admin-carts"),
    re_path(r"^carts/(?P<cart_id>[0-9a-f]{8,64})/$", views.cart_page, name="admin-cart"),
]
