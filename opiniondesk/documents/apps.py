from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "opiniondesk.documents"
    label = "documents"
