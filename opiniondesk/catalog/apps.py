from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "opiniondesk.catalog"
    label = "catalog"
