from django.urls import path

from opiniondesk.cases import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<id:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<id:case_id>/apply/<slug:step>/", views.case_step, name="case-step"),
    path("cases/<id:case_id>/submit/", views.case_submit, name="case-submit"),
    path("cases/<id:case_id>/withdraw/", views.case_withdraw, name="case-withdraw"),
]
