"""Routes of staff sign-in and sign-out."""

from django.urls import path

from . import login

urlpatterns = [
    path("login/", login.login, name="admin-login"),
    path("logout/", login.logout, name="admin-logout"),
]
