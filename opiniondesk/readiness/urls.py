from django.urls import path

from opiniondesk.readiness import views

urlpatterns = [
    path("cases/<id:case_id>/identity/", views.case_identity, name="case-identity"),
    path("cases/<id:case_id>/consent/", views.case_consent, name="case-consent"),
    path(
        "cases/<id:case_id>/invite-patient/",
        views.case_invite_patient,
        name="case-invite-patient",
    ),
    path("invitations/<str:token>/", views.patient_invitation, name="patient-invitation"),
]
