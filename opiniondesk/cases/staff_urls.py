"""A case's history, under /staff/ (the rest of the staff pages are in `desk`)."""

from django.urls import path

from opiniondesk.cases import staff_views

urlpatterns = [
    path("cases/<id:case_id>/history/", staff_views.history, name="staff-case-history"),
]
