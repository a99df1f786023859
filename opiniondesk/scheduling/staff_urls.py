"""The coordinator's scheduling pages, under /staff/."""

from django.urls import path

from opiniondesk.scheduling import staff_views

urlpatterns = [
    path("schedule/", staff_views.schedule, name="staff-schedule"),
    path("schedule/away/", staff_views.away_create, name="staff-schedule-away"),
    path("schedule/extra/", staff_views.extra_session_create, name="staff-schedule-extra"),
    path("schedule/remove/", staff_views.exception_delete, name="staff-schedule-remove"),
    path("cases/<id:case_id>/slots/", staff_views.case_slots, name="staff-case-slots"),
    path("cases/<id:case_id>/offer/", staff_views.offer_create, name="staff-offer-create"),
    path(
        "cases/<id:case_id>/offer/withdraw/",
        staff_views.offer_withdraw,
        name="staff-offer-withdraw",
    ),
    path(
        "cases/<id:case_id>/booking/change/",
        staff_views.booking_change,
        name="staff-booking-change",
    ),
    path(
        "cases/<id:case_id>/booking/cancel/",
        staff_views.booking_cancel,
        name="staff-booking-cancel",
    ),
]
