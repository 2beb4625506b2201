"""Routes of the admin return pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("returns/", views.return_list, name="admin-returns"),
    path("returns/<str:return_id>", views.return_page, name="admin-return"),
    path("returns/<str:return_id>/approve", views.return_approve, name="admin-return-approve"),
    path("returns/<str:return_id>/reject", views.return_reject, name="admin-return-reject"),
    path("returns/<str:return_id>/in-transit", views.return_in_transit, name="admin-return-in-transit"),
    path("returns/<str:return_id>/receive", views.return_receive, name="admin-return-receive"),
    path("returns/<str:return_id>/refund", views.return_refund, name="admin-return-refund"),
]
