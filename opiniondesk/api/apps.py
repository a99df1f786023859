from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "opiniondesk.api"
    label = "api"
