from django.urls import path

from opiniondesk.readiness import device_views

urlpatterns = [
    path("cases/<id:case_id>/device-check/", device_views.device_check, name="device-check"),
]
