"""Routes of the admin cadence pages (views) and their POST actions (actions)."""

from django.urls import path

from . import actions, views

urlpatterns = [
    path("cadences/", views.cadence_list, name="admin-cadences"),
    path("cadences/new", views.cadence_new, name="admin-cadence-new"),
    path("cadences/unsubscribe", actions.unsubscribe, name="admin-unsubscribe"),
    path("cadences/<str:cadence>/", views.cadence_detail, name="admin-cadence"),
    path("cadences/<str:cadence>/edit", views.cadence_edit, name="admin-cadence-edit"),
    path("cadences/<str:cadence>/enroll", actions.enroll, name="admin-cadence-enroll"),
    path("cadences/<str:cadence>/enrollments/<str:contact>", views.enrollment, name="admin-enrollment"),
    path("cadences/<str:cadence>/enrollments/<str:contact>/<str:action>", actions.enrollment_action,
         name="admin-enrollment-action"),
]
