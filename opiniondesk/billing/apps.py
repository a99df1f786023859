from django.apps import AppConfig
from django.core import checks


class BillingConfig(AppConfig):
    name = "opiniondesk.billing"
    label = "billing"

    def ready(self) -> None:
        from opiniondesk.billing.checks import invoice_number_check

        checks.register(invoice_number_check)
