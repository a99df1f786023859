from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "opiniondesk.catalog"
    label = "catalog"

    def ready(self) -> None:
        from opiniondesk.catalog.cache import connect_signals

        connect_signals(self)
