from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter

from opiniondesk.core import health
from opiniondesk.core.converters import IdConverter

register_converter(IdConverter, "id")

# The admin signs in through allauth, so staff need their second factor there too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = settings.HOSPITAL["name"]

urlpatterns = [
    # Public, for load balancers and monitoring: a status per part, nothing more (core/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("healthz/web", health.healthz_web, name="healthz-web"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Our confirmation page ("already confirmed", "expired") in place of allauth's.
    path("accounts/", include("opiniondesk.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", include("opiniondesk.api.urls")),
    path("billing/", include("opiniondesk.billing.urls")),
    path("staff/", include("opiniondesk.desk.staff_urls")),
    path("staff/", include("opiniondesk.cases.staff_urls")),
    path("staff/", include("opiniondesk.scheduling.staff_urls")),
    path("staff/", include("opiniondesk.consults.staff_urls")),
    path("staff/", include("opiniondesk.referrals.staff_urls")),
    path("staff/", include("opiniondesk.opinions.staff_urls")),
    path("", include("opiniondesk.desk.urls")),
    path("", include("opiniondesk.cases.urls")),
    path("", include("opiniondesk.documents.urls")),
    path("", include("opiniondesk.scheduling.urls")),
    path("", include("opiniondesk.readiness.urls")),
    path("", include("opiniondesk.readiness.device_urls")),
    path("", include("opiniondesk.consults.urls")),
    path("", include("opiniondesk.opinions.urls")),
    path("", include("opiniondesk.public.urls")),
]
if settings.BENCH_BARE_VIEW:  # the benchmark's baseline (bench/README.md); off unless asked
    urlpatterns.insert(0, path("bench/", include("bench.bare_view")))

# Under /api/ the errors are JSON, elsewhere Django's pages (opiniondesk/api/errors.py).
handler400 = "opiniondesk.api.errors.bad_request"
handler403 = "opiniondesk.api.errors.permission_denied"
handler404 = "opiniondesk.api.errors.page_not_found"
handler500 = "opiniondesk.api.errors.server_error"
