from django.urls import path

from opiniondesk.accounts import views

urlpatterns = [
    path("", views.staff_home, name="staff-home"),
]
