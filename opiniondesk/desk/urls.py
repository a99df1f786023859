"""The patient's dashboard and case page, and withdrawing an application."""

from django.urls import path

from opiniondesk.desk import patient

urlpatterns = [
    path("dashboard/", patient.dashboard, name="dashboard"),
    path("cases/<id:case_id>/", patient.case_detail, name="case-detail"),
    path("cases/<id:case_id>/withdraw/", patient.case_withdraw, name="case-withdraw"),
]
