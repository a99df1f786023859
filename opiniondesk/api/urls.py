from django.conf import settings
from django.urls import path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opiniondesk.api import cases, opinions, public, records, scheduling


class OfflineRedocView(SpectacularRedocView):
    """Redoc without the Google Fonts link of drf-spectacular's template (works offline)."""

    template_name = "api/redoc.html"


class NoncedSwaggerView(SpectacularSwaggerView):
    """Swagger UI with its inline script under the request's CSP nonce."""

    template_name = "api/swagger.html"


# The documentation pages (no personal data) take the site's policy, with inline styles allowed:
# Redoc writes its styles into <style> elements as it renders (styled-components), and runs its
# search in a Worker made from a blob. Scripts still need the nonce.
DOCS_CSP = {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "worker-src": [CSP.SELF, "blob:"],
}
docs_csp = csp_override(DOCS_CSP)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", docs_csp(NoncedSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("redoc/", docs_csp(OfflineRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path("v1/eligibility/check", public.eligibility_check, name="api-eligibility-check"),
    path("v1/fees/quote", public.fee_quote, name="api-fee-quote"),
    path("v1/departments", public.departments, name="api-departments"),
    path("v1/calendar/closed-days", public.closed_days_of_year, name="api-closed-days"),
    path("v1/cases", cases.case_list, name="api-cases"),
    path("v1/cases/<int:case_id>", cases.case_detail, name="api-case"),
    path("v1/cases/<int:case_id>/documents", cases.case_documents, name="api-case-documents"),
    path("v1/cases/<int:case_id>/transitions", cases.case_transitions, name="api-case-transitions"),
    path("v1/cases/<int:case_id>/phone-logs", cases.case_phone_logs, name="api-case-phone-logs"),
    path("v1/cases/<int:case_id>/fhir", cases.case_fhir, name="api-case-fhir"),
    path("v1/cases/<int:case_id>/schedule", scheduling.case_schedule, name="api-case-schedule"),
    path("v1/cases/<int:case_id>/offers", scheduling.case_offer, name="api-case-offers"),
    path("v1/cases/<int:case_id>/booking", scheduling.case_book, name="api-case-booking"),
    path(
        "v1/cases/<int:case_id>/booking/change",
        scheduling.case_booking_change,
        name="api-case-booking-change",
    ),
    path(
        "v1/cases/<int:case_id>/booking/cancel",
        scheduling.case_booking_cancel,
        name="api-case-booking-cancel",
    ),
    path("v1/cases/<int:case_id>/consult", records.case_consult, name="api-case-consult"),
    path("v1/cases/<int:case_id>/charge", records.case_charge, name="api-case-charge"),
    path(
        "v1/cases/<int:case_id>/charge/collect",
        records.case_charge_collect,
        name="api-case-charge-collect",
    ),
    path(
        "v1/cases/<int:case_id>/charge/waive",
        records.case_charge_waive,
        name="api-case-charge-waive",
    ),
    path(
        "v1/cases/<int:case_id>/charge/refund",
        records.case_charge_refund,
        name="api-case-charge-refund",
    ),
    path("v1/cases/<int:case_id>/opinion", opinions.case_opinion, name="api-case-opinion"),
    path(
        "v1/cases/<int:case_id>/opinion/pdf",
        opinions.case_opinion_pdf,
        name="api-case-opinion-pdf",
    ),
    path(
        "v1/cases/<int:case_id>/disclosures",
        opinions.case_disclosures,
        name="api-case-disclosures",
    ),
    path("v1/schedule/slots", scheduling.schedule_slots, name="api-schedule-slots"),
]
