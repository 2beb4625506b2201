"""Routes of the admin inventory pages."""

from django.urls import path, re_path

from . import locations, views

SKU = r"(?P<sku>[A-Za-z0-9._-]{1,100})"
LOCATION = r"(?P<location_id>[a-z0-9-]{1,40})"

urlpatterns = [
    path("inventory/", views.inventory_list, name="admin-inventory"),
    path("inventory/adjust", views.inventory_adjust, name="admin-inventory-adjust"),
    re_path(rf"^inventory/sku/{SKU}/$", views.inventory_sku, name="admin-inventory-sku"),
    re_path(rf"^inventory/sku/{SKU}/move$", views.inventory_move, name="admin-inventory-move"),
    re_path(rf"^inventory/sku/{SKU}/count$", views.inventory_count, name="admin-inventory-count"),
    re_path(rf"^inventory/sku/{SKU}/policy$", views.inventory_policy, name="admin-inventory-policy"),
    path("inventory/locations", locations.location_list, name="admin-inventory-locations"),
    re_path(rf"^inventory/locations/{LOCATION}$", locations.location_edit, name="admin-inventory-location"),
    re_path(rf"^inventory/locations/{LOCATION}/active$", locations.location_active,
            name="admin-inventory-location-active"),
]
