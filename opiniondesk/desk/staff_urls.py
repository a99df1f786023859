"""The staff pages under /staff/: home, the work queue, the case page and its actions."""

from django.urls import include, path

from opiniondesk.desk import (
    corrections,
    disclosures,
    lead_time_page,
    paper,
    queue,
    receipts,
    staff_case,
)

urlpatterns = [
    path("", queue.staff_home, name="staff-home"),
    path("queue/", queue.queue, name="staff-queue"),
    # Days each step of a case takes, per department and month (coordinator, department heads).
    path("lead-times/", lead_time_page.lead_times, name="staff-lead-times"),
    path("billing/", include("opiniondesk.desk.billing_urls")),
    # Disclosure requests (開示請求).
    path("disclosures/", disclosures.disclosure_list, name="staff-disclosures"),
    path("disclosures/<id:request_id>/", disclosures.disclosure_page, name="staff-disclosure"),
    path(
        "disclosures/<id:request_id>/record.pdf",
        disclosures.disclosure_pdf,
        name="staff-disclosure-pdf",
    ),
    path(
        "disclosures/<id:request_id>/fhir.json",
        disclosures.disclosure_fhir,
        name="staff-disclosure-fhir",
    ),
    path(
        "disclosures/<id:request_id>/fulfil/",
        disclosures.disclosure_fulfil,
        name="staff-disclosure-fulfil",
    ),
    path("cases/<id:case_id>/", staff_case.case_page, name="staff-case"),
    # The billing staff's copy of a receipt.
    path("receipts/<id:receipt_id>/", receipts.staff_receipt, name="staff-receipt"),
    # Screening and the department's decision.
    path("cases/<id:case_id>/screen/", staff_case.case_screen, name="staff-case-screen"),
    path(
        "cases/<id:case_id>/request-documents/",
        staff_case.case_request_documents,
        name="staff-case-request-documents",
    ),
    path("cases/<id:case_id>/calls/", staff_case.case_phone_log, name="staff-case-phone-log"),
    # Corrections of the application, each a new version (records).
    path(
        "cases/<id:case_id>/correct/",
        corrections.application_correct,
        name="staff-case-correct",
    ),
    # A paper or phone application: opened and typed in by the coordinator, the scans
    # attached, sent, handed to the person's own account if they want one.
    path("paper/new/", paper.paper_open, name="staff-paper-open"),
    path("cases/<id:case_id>/paper/", paper.paper_page, name="staff-paper"),
    path("cases/<id:case_id>/paper/scans/", paper.paper_attach, name="staff-paper-attach"),
    path("cases/<id:case_id>/paper/received/", paper.paper_received, name="staff-paper-received"),
    path("cases/<id:case_id>/paper/submit/", paper.paper_submit, name="staff-paper-submit"),
    path("cases/<id:case_id>/paper/handover/", paper.paper_handover, name="staff-paper-handover"),
    path("cases/<id:case_id>/paper/<slug:step>/", paper.paper_step, name="staff-paper-step"),
    path("cases/<id:case_id>/reject/", staff_case.case_reject, name="staff-case-reject"),
    path("cases/<id:case_id>/refer/", staff_case.case_refer, name="staff-case-refer"),
    path("cases/<id:case_id>/withdraw/", staff_case.case_withdraw, name="staff-case-withdraw"),
    path("cases/<id:case_id>/accept/", staff_case.case_accept, name="staff-case-accept"),
    path("cases/<id:case_id>/decline/", staff_case.case_decline, name="staff-case-decline"),
    # The review of the materials and the consult.
    path("cases/<id:case_id>/review/start/", staff_case.review_start, name="staff-review-start"),
    path("cases/<id:case_id>/review/stop/", staff_case.review_stop, name="staff-review-stop"),
    path(
        "cases/<id:case_id>/review/correct/",
        staff_case.review_correct,
        name="staff-review-correct",
    ),
    path("cases/<id:case_id>/visit/start/", staff_case.visit_start, name="staff-visit-start"),
    path("cases/<id:case_id>/visit/end/", staff_case.visit_end, name="staff-visit-end"),
    path("cases/<id:case_id>/no-show/", staff_case.no_show, name="staff-no-show"),
    # Candidate dates and the booking.
    path("cases/<id:case_id>/offer/", staff_case.offer_create, name="staff-offer-create"),
    path(
        "cases/<id:case_id>/offer/withdraw/",
        staff_case.offer_withdraw,
        name="staff-offer-withdraw",
    ),
    path(
        "cases/<id:case_id>/booking/change/",
        staff_case.booking_change,
        name="staff-booking-change",
    ),
    path(
        "cases/<id:case_id>/booking/cancel/",
        staff_case.booking_cancel,
        name="staff-booking-cancel",
    ),
    # The identity check.
    path(
        "cases/<id:case_id>/identity/<id:document_id>/",
        staff_case.identity_check,
        name="staff-identity-check",
    ),
]
