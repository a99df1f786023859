"""The benchmark's baseline: the cheapest Django view, behind the same middleware and server.

Mounted at /bench/bare only when settings.BENCH_BARE_VIEW is on (env BENCH_BARE_VIEW=true), which
bench/eligibility_api.py sets; `make run` and production never serve it.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bare", bare, name="bench-bare")]
