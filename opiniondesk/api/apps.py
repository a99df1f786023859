from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "opiniondesk.api"
    label = "api"

    def ready(self) -> None:
        # Registers the token's security scheme with drf-spectacular.
        from opiniondesk.api import auth  # noqa: F401
