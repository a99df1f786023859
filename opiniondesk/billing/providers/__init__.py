"""Payment providers. Without a card provider configured the embedded default is to pay at the
hospital (desk, terminal or bank transfer, recorded by billing staff)."""

from django.conf import settings

from opiniondesk.billing.providers.base import CardProvider


def card_provider() -> CardProvider | None:
    """The configured card provider, or None when fees are paid at the hospital."""
    if settings.STRIPE_SECRET_KEY:
        from opiniondesk.billing.providers.stripe import StripeProvider

        return StripeProvider(
            secret_key=settings.STRIPE_SECRET_KEY,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            api_base=settings.STRIPE_API_BASE,
        )
    return None


def takes_cards() -> bool:
    """A card is registered before an online consult (SPEC §6) only when a provider can take it."""
    return bool(settings.STRIPE_SECRET_KEY)
