from django.urls import path

from opiniondesk.documents import views

urlpatterns = [
    path("cases/<id:case_id>/documents/", views.case_documents, name="case-documents"),
    path("cases/<id:case_id>/documents/link/", views.upload_link_create, name="upload-link-create"),
    path("documents/<id:document_id>/", views.document_file, name="document-file"),
    path("upload/<str:token>/", views.physician_upload, name="physician-upload"),
]
