from django.urls import path

from opiniondesk.cases import views

urlpatterns = [
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<id:case_id>/apply/<slug:step>/", views.case_step, name="case-step"),
    path("cases/<id:case_id>/submit/", views.case_submit, name="case-submit"),
]
