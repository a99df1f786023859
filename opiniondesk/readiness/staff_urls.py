"""The coordinator's identity check, under /staff/."""

from django.urls import path

from opiniondesk.readiness import staff_views

urlpatterns = [
    path(
        "cases/<id:case_id>/identity/<id:document_id>/",
        staff_views.identity_check,
        name="staff-identity-check",
    ),
]
