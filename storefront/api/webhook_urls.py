"""Routes of the webhooks API (`/api/staff/webhooks...`); see webhooks_api.py."""

from django.urls import path

from .webhooks_api import EndpointsView, EndpointView, PingView, RedeliverView

urlpatterns = [
    path("webhooks", EndpointsView.as_view(), name="api-staff-webhooks"),
    path("webhooks/<str:endpoint>", EndpointView.as_view(), name="api-staff-webhook"),
    path("webhooks/<str:endpoint>/ping", PingView.as_view(), name="api-staff-webhook-ping"),
    path("webhooks/<str:endpoint>/redeliver", RedeliverView.as_view(), name="api-staff-webhook-redeliver"),
]
