from django.apps import AppConfig


class OpinionsConfig(AppConfig):
    name = "opiniondesk.opinions"
    label = "opinions"
