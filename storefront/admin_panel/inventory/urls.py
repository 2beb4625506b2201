"""Routes of the admin inventory pages."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("inventory/", views.inventory_list, name="admin-inventory"),
    path("inventory/adjust", views.inventory_adjust, name="admin-inventory-adjust"),
    re_path(r"^inventory/sku/(?P<sku>[A-Za-z0-9._-]{1,100})/$", views.inventory_sku, name="admin-inventory-sku"),
]
