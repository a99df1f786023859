"""The patient's dashboard and case page, withdrawing an application, and the receipts."""

from django.urls import path

from opiniondesk.desk import disclosures, patient, receipts

urlpatterns = [
    path("dashboard/", patient.dashboard, name="dashboard"),
    path("cases/<id:case_id>/", patient.case_detail, name="case-detail"),
    path("cases/<id:case_id>/withdraw/", patient.case_withdraw, name="case-withdraw"),
    path(
        "cases/<id:case_id>/disclosure/",
        disclosures.case_disclosure_request,
        name="case-disclosure-request",
    ),
    path(
        "cases/<id:case_id>/receipts/<id:receipt_id>/",
        receipts.case_receipt,
        name="case-receipt",
    ),
]
