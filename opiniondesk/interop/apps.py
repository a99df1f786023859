from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "opiniondesk.interop"
    label = "interop"
