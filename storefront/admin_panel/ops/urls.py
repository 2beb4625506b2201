"""Routes of the admin Operations view."""

from django.urls import path

from . import views

urlpatterns = [
    path("ops/", views.overview, name="admin-ops"),
    path("ops/workflows/<path:workflow_id>", views.workflow_page, name="admin-ops-workflow"),
]
