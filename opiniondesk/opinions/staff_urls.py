"""The opinion's staff pages under /staff/cases/<id>/opinion/."""

from django.urls import path

from opiniondesk.opinions import views

urlpatterns = [
    path("cases/<id:case_id>/opinion/", views.opinion_page, name="staff-opinion"),
    path("cases/<id:case_id>/opinion/draft/", views.draft_save, name="staff-opinion-draft"),
    path("cases/<id:case_id>/opinion/preview/", views.preview, name="staff-opinion-preview"),
    path("cases/<id:case_id>/opinion/sign/", views.sign, name="staff-opinion-sign"),
    path(
        "cases/<id:case_id>/opinion/versions/<id:version_id>/correct/",
        views.correction_start,
        name="staff-opinion-correct",
    ),
    path(
        "cases/<id:case_id>/opinion/versions/<id:version_id>/pdf/",
        views.staff_pdf,
        name="staff-opinion-pdf",
    ),
    path("cases/<id:case_id>/opinion/link/", views.link_send, name="staff-opinion-link"),
    path("cases/<id:case_id>/opinion/post/", views.post_record, name="staff-opinion-post"),
    path(
        "cases/<id:case_id>/opinion/delivery-details/",
        views.details_save,
        name="staff-opinion-details",
    ),
]
