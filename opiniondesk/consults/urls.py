"""The patient's waiting room and call; the join token of a reconnecting page."""

from django.urls import path

from opiniondesk.consults import views

urlpatterns = [
    path("cases/<id:case_id>/consult/", views.patient_room, name="consult-room"),
    path("consults/<id:consult_id>/token/", views.token, name="consult-token"),
]
