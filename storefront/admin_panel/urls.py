"""Every admin panel route; each page module owns its own `urlpatterns`."""

from django.urls import path

from . import cadences_pages, identity_pages, ops, orders, staff_login, stock_pages, views

urlpatterns = [
    path("", views.dashboard, name="admin-dashboard"),
    path("login/", staff_login.login, name="admin-login"),
    path("logout/", staff_login.logout, name="admin-logout"),
    *identity_pages.urlpatterns,
    *orders.urlpatterns,
    *stock_pages.urlpatterns,
    *ops.urlpatterns,
    *cadences_pages.urlpatterns,
]
