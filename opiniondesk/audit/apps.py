from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "opiniondesk.audit"
    label = "audit"
    verbose_name = "Audit log"
