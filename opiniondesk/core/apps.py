from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "opiniondesk.core"
    label = "core"
