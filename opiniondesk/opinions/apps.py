from django.apps import AppConfig


class OpinionsConfig(AppConfig):
    name = "opiniondesk.opinions"
    label = "opinions"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from opiniondesk.opinions.guard import ensure_guard

        post_migrate.connect(ensure_guard, sender=self, dispatch_uid="opinions-ensure-guard")
