"""The staff consoles, under /staff/ (next to the staff home page of accounts)."""

from django.urls import path

from opiniondesk.cases import staff_views

urlpatterns = [
    path("queue/", staff_views.queue, name="staff-queue"),
    path("cases/<id:case_id>/", staff_views.case_page, name="staff-case"),
    path("cases/<id:case_id>/history/", staff_views.history, name="staff-case-history"),
    path("cases/<id:case_id>/screen/", staff_views.case_screen, name="staff-case-screen"),
    path(
        "cases/<id:case_id>/request-documents/",
        staff_views.case_request_documents,
        name="staff-case-request-documents",
    ),
    path("cases/<id:case_id>/calls/", staff_views.case_phone_log, name="staff-case-phone-log"),
    path("cases/<id:case_id>/reject/", staff_views.case_reject, name="staff-case-reject"),
    path("cases/<id:case_id>/refer/", staff_views.case_refer, name="staff-case-refer"),
    path("cases/<id:case_id>/withdraw/", staff_views.case_withdraw, name="staff-case-withdraw"),
    path("cases/<id:case_id>/accept/", staff_views.case_accept, name="staff-case-accept"),
    path("cases/<id:case_id>/decline/", staff_views.case_decline, name="staff-case-decline"),
    path("cases/<id:case_id>/review/", staff_views.case_review, name="staff-case-review"),
]
