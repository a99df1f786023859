from django.apps import AppConfig


class ConsultsConfig(AppConfig):
    """The consult itself: review of the materials, the waiting room, the call, the record."""

    name = "opiniondesk.consults"
    label = "consults"
