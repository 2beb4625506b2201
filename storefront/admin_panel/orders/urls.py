"""Routes of the admin order pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("orders/", views.order_list, name="admin-orders"),
    path("orders/<str:reference>", views.order_page, name="admin-order"),
    path("orders/<str:reference>/cancel", views.order_cancel, name="admin-order-cancel"),
    path("orders/<str:reference>/refund", views.order_refund, name="admin-order-refund"),
    path("orders/<str:reference>/note", views.order_note, name="admin-order-note"),
    path("orders/<str:reference>/fulfillment/advance", views.stage_advance, name="admin-order-advance"),
    path("orders/<str:reference>/return", views.order_open_return, name="admin-order-return"),
    path("orders/<str:reference>/fulfillment/reject", views.stage_reject, name="admin-order-reject"),
    path("orders/<str:reference>/edits/preview", views.order_edit_preview, name="admin-order-edit-preview"),
    path("orders/<str:reference>/edits/confirm", views.order_edit_confirm, name="admin-order-edit-confirm"),
    path("orders/<str:reference>/edits/abandon", views.order_edit_abandon, name="admin-order-edit-abandon"),
]
