from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The top of the layers: pages and actions that span several domains. No models."""

    name = "opiniondesk.desk"
    label = "desk"
