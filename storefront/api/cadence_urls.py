"""Routes of the cadences API (`/api/staff/cadences...`, `/api/staff/unsubscribes`); see
cadences_api.py and cadence_enrollments_api.py."""

from django.urls import path

from .cadence_enrollments_api import EnrollmentActionView, EnrollmentsView, EnrollmentView, UnsubscribesView
from .cadences_api import CadencesView, CadenceView

urlpatterns = [
    path("cadences", CadencesView.as_view(), name="api-staff-cadences"),
    path("cadences/<str:cadence>", CadenceView.as_view(), name="api-staff-cadence"),
    path("cadences/<str:cadence>/enrollments", EnrollmentsView.as_view(), name="api-staff-cadence-enrollments"),
    path("cadences/<str:cadence>/enrollments/<str:contact>", EnrollmentView.as_view(), name="api-staff-enrollment"),
    path("cadences/<str:cadence>/enrollments/<str:contact>/<str:action>", EnrollmentActionView.as_view(),
         name="api-staff-enrollment-action"),
    path("unsubscribes", UnsubscribesView.as_view(), name="api-staff-unsubscribes"),
]
