"""Routes of the admin catalog page and its reindex."""

from django.urls import path

from . import views

urlpatterns = [
    path("catalog/", views.catalog_list, name="admin-catalog"),
    path("catalog/reindex", views.catalog_reindex, name="admin-catalog-reindex"),
    path("catalog/reindex/status", views.catalog_reindex_status, name="admin-catalog-reindex-status"),
]
