"""The coordinator's import of eReferral files, under /staff/."""

from django.urls import path

from opiniondesk.referrals import views

urlpatterns = [
    path("referrals/new/", views.upload, name="referral-upload"),
    path("cases/<id:case_id>/referral/", views.upload_for_case, name="referral-upload-case"),
    path("referrals/<uuid:pending_id>/", views.preview, name="referral-preview"),
]
