from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The top of the layers: pages and actions that span several domains. No models."""

    name = "opiniondesk.desk"
    label = "desk"

    def ready(self) -> None:
        from opiniondesk.billing import signals
        from opiniondesk.desk import settlement

        signals.fee_settled.connect(settlement.on_fee_settled, dispatch_uid="desk-fee-settled")
        signals.charge_failed.connect(
            settlement.on_charge_failed, dispatch_uid="desk-charge-failed"
        )
