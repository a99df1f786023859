from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("opiniondesk.api.urls")),
    path("", include("opiniondesk.public.urls")),
]
if settings.BENCH_BARE_VIEW:  # the benchmark's baseline (bench/README.md); off unless asked
    urlpatterns.insert(0, path("bench/", include("bench.bare_view")))
