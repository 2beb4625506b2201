"""Shopper account pages, included by storefront.urls at /shop/account/."""

from django.urls import path

from . import email_verification as verification
from . import shopper_address_pages as addresses
from . import shopper_pages as pages
from . import shopper_password_pages as passwords

urlpatterns = [
    path("", pages.account_page, name="shop-account"),
    path("profile/", pages.profile, name="shop-account-profile"),
    path("signup/", pages.signup, name="shop-account-signup"),
    path("login/", pages.login, name="shop-account-login"),
    path("logout/", pages.logout, name="shop-account-logout"),
    path("password/", passwords.change_password, name="shop-account-password"),
    path("reset/", passwords.request_reset, name="shop-account-reset"),
    path("reset/<str:shopper_id>/<str:token>/", passwords.reset_password, name="shop-account-reset-confirm"),
    path("verify/", verification.resend, name="shop-account-verify-resend"),
    path("verify/<str:token_>/", verification.verify, name="shop-account-verify"),
    path("addresses/new/", addresses.new_address, name="shop-account-address-new"),
    path("addresses/<str:address_id>/", addresses.edit_address, name="shop-account-address"),
    path("addresses/<str:address_id>/remove/", addresses.remove_address, name="shop-account-address-remove"),
    path("addresses/<str:address_id>/default/", addresses.make_default, name="shop-account-address-default"),
]
