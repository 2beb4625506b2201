"""Routes of the admin webhook pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("webhooks/", views.endpoints, name="admin-webhooks"),
    path("webhooks/<str:endpoint_id>/", views.endpoint, name="admin-webhook"),
]
