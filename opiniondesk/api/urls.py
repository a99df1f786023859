from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opiniondesk.api import public


class OfflineRedocView(SpectacularRedocView):
    """Redoc without the Google Fonts link of drf-spectacular's template (works offline)."""

    template_name = "api/redoc.html"


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", OfflineRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("v1/eligibility/check", public.eligibility_check, name="api-eligibility-check"),
    path("v1/fees/quote", public.fee_quote, name="api-fee-quote"),
    path("v1/departments", public.departments, name="api-departments"),
    path("v1/calendar/closed-days", public.closed_days_of_year, name="api-closed-days"),
]
