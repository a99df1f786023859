"""The physician's one-time link and the patient's copy of the opinion."""

from django.urls import path

from opiniondesk.opinions import views

urlpatterns = [
    path("opinion/pdf/<id:delivery_id>/", views.physician_pdf, name="opinion-link-pdf"),
    path("opinion/<str:token>/", views.physician_link, name="opinion-link"),
    path("cases/<id:case_id>/opinion.pdf", views.patient_copy, name="case-opinion-copy"),
]
