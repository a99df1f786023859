"""The coordinator's calendar, and the case page's list of free dates for htmx, under /staff/."""

from django.urls import path

from opiniondesk.scheduling import staff_views

urlpatterns = [
    path("schedule/", staff_views.schedule, name="staff-schedule"),
    path("schedule/away/", staff_views.away_create, name="staff-schedule-away"),
    path("schedule/extra/", staff_views.extra_session_create, name="staff-schedule-extra"),
    path("schedule/remove/", staff_views.exception_delete, name="staff-schedule-remove"),
    path("cases/<id:case_id>/slots/", staff_views.case_slots, name="staff-case-slots"),
]
