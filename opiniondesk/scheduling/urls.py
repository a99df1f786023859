from django.urls import path

from opiniondesk.scheduling import views

urlpatterns = [
    path("cases/<id:case_id>/book/", views.case_book, name="case-book"),
    path(
        "cases/<id:case_id>/booking/change/",
        views.case_booking_change,
        name="case-booking-change",
    ),
    path(
        "cases/<id:case_id>/booking/cancel/",
        views.case_booking_cancel,
        name="case-booking-cancel",
    ),
    path("cases/<id:case_id>/booking.ics", views.case_booking_ics, name="case-booking-ics"),
]
