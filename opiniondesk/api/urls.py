from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opiniondesk.api import public

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("v1/eligibility/check", public.eligibility_check, name="api-eligibility-check"),
    path("v1/fees/quote", public.fee_quote, name="api-fee-quote"),
    path("v1/departments", public.departments, name="api-departments"),
    path("v1/calendar/closed-days", public.closed_days_of_year, name="api-closed-days"),
]
