from django.urls import path

from opiniondesk.billing import views

urlpatterns = [
    path("webhooks/<slug:provider>/", views.webhook, name="billing-webhook"),
]
