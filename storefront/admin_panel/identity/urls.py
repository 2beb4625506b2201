"""Routes of the admin staff, API token and shop settings pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("staff/", views.staff_list, name="admin-staff"),
    path("staff/<str:staff_id>", views.staff_change, name="admin-staff-change"),
    path("tokens/", views.tokens, name="admin-tokens"),
    path("tokens/<str:token_id>/revoke", views.token_revoke, name="admin-token-revoke"),
    path("settings/", views.settings_page, name="admin-settings"),
]
