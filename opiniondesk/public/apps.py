from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "opiniondesk.public"
    label = "public"
