from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "opiniondesk.billing"
    label = "billing"
