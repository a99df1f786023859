"""The default fee table of SPEC §8, in force since the 10 % consumption tax (2019-10-01)."""

from datetime import date

from django.db import transaction

from opiniondesk.billing.models import FeeSchedule, FeeTier

DEFAULT_TIERS = [(30, 40_000, 10), (60, 80_000, 10)]  # 44,000 and 88,000 yen with tax


@transaction.atomic
def load_fees() -> None:
    schedule, created = FeeSchedule.objects.get_or_create(
        effective_from=date(2019, 10, 1), defaults={"note": "セカンドオピニオン外来 標準料金"}
    )
    if created:
        FeeTier.objects.bulk_create(
            FeeTier(schedule=schedule, up_to_minutes=m, price_excluding_tax=p, tax_rate_percent=r)
            for m, p, r in DEFAULT_TIERS
        )
