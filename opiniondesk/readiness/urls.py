from django.urls import path

from opiniondesk.readiness import card_views, views

urlpatterns = [
    path("cases/<id:case_id>/identity/", views.case_identity, name="case-identity"),
    path("cases/<id:case_id>/consent/", views.case_consent, name="case-consent"),
    path("cases/<id:case_id>/privacy/", views.case_patient_privacy, name="case-patient-privacy"),
    path(
        "cases/<id:case_id>/invite-patient/",
        views.case_invite_patient,
        name="case-invite-patient",
    ),
    path("invitations/<str:token>/", views.patient_invitation, name="patient-invitation"),
    path("cases/<id:case_id>/card/", card_views.card_setup, name="card-setup"),
    path("cases/<id:case_id>/card/done/", card_views.card_setup_done, name="card-setup-done"),
    path("cases/<id:case_id>/card/confirm/", card_views.charge_confirm, name="charge-confirm"),
]
