from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "opiniondesk.cases"
    label = "cases"
