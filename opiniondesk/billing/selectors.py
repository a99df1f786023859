from opiniondesk.billing.fees import FeeTable, FeeTier
from opiniondesk.billing.models import CardOnFile, FeeSchedule
from opiniondesk.cases.models import Case


def fee_tables() -> list[FeeTable]:
    """Every fee schedule with at least one tier, as pure fee tables."""
    tables = []
    for schedule in FeeSchedule.objects.prefetch_related("tiers"):
        tiers = tuple(
            FeeTier(t.up_to_minutes, t.price_excluding_tax, t.tax_rate_percent)
            for t in sorted(schedule.tiers.all(), key=lambda t: t.up_to_minutes)
        )
        if tiers:
            tables.append(FeeTable(schedule.effective_from, tiers))
    return tables


def live_card(case: Case) -> CardOnFile | None:
    """The card registered for the case now (the last one saved)."""
    return CardOnFile.objects.filter(case=case, removed_at__isnull=True).first()
