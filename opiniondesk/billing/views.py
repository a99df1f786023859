"""The card provider's webhooks (SPEC §8): verified by signature, applied once. The answer says
nothing about the payment or the payer."""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from opiniondesk.billing import providers, services
from opiniondesk.billing.providers.base import WebhookRejected

# Where each provider puts its signature.
SIGNATURE_HEADERS = {"stripe": "Stripe-Signature"}


@csrf_exempt  # signed by the provider instead
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    configured = providers.card_provider()
    if configured is None or configured.name != provider or provider not in SIGNATURE_HEADERS:
        raise Http404
    try:
        services.webhook_receive(
            provider_name=provider,
            payload=request.body,
            signature=request.headers.get(SIGNATURE_HEADERS[provider], ""),
        )
    except WebhookRejected:
        return HttpResponse("rejected\n", status=400, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
