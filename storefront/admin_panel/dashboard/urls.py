"""Route of the admin dashboard."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="admin-dashboard"),
]
