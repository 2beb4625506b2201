"""Routes of the admin Operations view."""

from django.urls import path

from . import codec, views

urlpatterns = [
    path("ops/", views.overview, name="admin-ops"),
    path("ops/workflows/<path:workflow_id>", views.workflow_page, name="admin-ops-workflow"),
    # Temporal's remote codec protocol: the UI (or `temporal --codec-endpoint .../admin/temporal-codec`)
    # appends /decode and /encode
    path("temporal-codec/decode", codec.decode, name="admin-temporal-codec-decode"),
    path("temporal-codec/encode", codec.encode, name="admin-temporal-codec-encode"),
]
