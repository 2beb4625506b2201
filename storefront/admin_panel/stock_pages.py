"""Routes of the admin inventory, carts and catalog pages (each page module holds its views)."""

from django.urls import path, re_path

from . import carts_views, catalog_views, inventory_views

urlpatterns = [
    path("inventory/", inventory_views.inventory_list, name="admin-inventory"),
    path("inventory/adjust", inventory_views.inventory_adjust, name="admin-inventory-adjust"),
    re_path(r"^inventory/sku/(?P<sku>[A-Za-z0-9._-]{1,100})/$", inventory_views.inventory_sku,
            name="admin-inventory-sku"),
    path("carts/", carts_views.carts_list, name="admin-carts"),
    re_path(r"^carts/(?P<cart_id>[0-9a-f]{8,64})/$", carts_views.cart_page, name="admin-cart"),
    path("catalog/", catalog_views.catalog_list, name="admin-catalog"),
    path("catalog/reindex", catalog_views.catalog_reindex, name="admin-catalog-reindex"),
    path("catalog/reindex/status", catalog_views.catalog_reindex_status, name="admin-catalog-reindex-status"),
]
