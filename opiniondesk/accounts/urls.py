from django.urls import re_path

from opiniondesk.accounts import views

# Before allauth's own URLs (config/urls.py), with its path and name: reverse() gives the same.
urlpatterns = [
    re_path(
        r"^confirm-email/(?P<key>[-:\w]+)/$", views.confirm_email, name="account_confirm_email"
    ),
]
