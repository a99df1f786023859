"""The specialist's list of today's consults and the consult room, under /staff/."""

from django.urls import path

from opiniondesk.consults import views

urlpatterns = [
    path("consults/", views.lobby, name="staff-consults"),
    path("cases/<id:case_id>/consult/", views.specialist_room, name="staff-consult-room"),
]
