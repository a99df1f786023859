"""The patient's card (SPEC §6, §8): registered with the card provider's own form (Stripe
Elements), so the card number never reaches our server; and, when the card company asks the
cardholder to confirm a charge (3-D Secure), the page where they do.

The browser talks to Stripe through Stripe.js (static/readiness/card.js); these views only give
it the references `billing.services` made and keep what it reports back. Without a card provider
the fee is paid at the hospital and the page says so.
"""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.shortcuts import redirect, render
from django.utils.csp import CSP, build_policy
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from opiniondesk.audit.services import audit_read
from opiniondesk.billing import providers
from opiniondesk.billing import services as billing
from opiniondesk.billing.errors import BillingError
from opiniondesk.billing.models import AttemptState, Charge, ChargeAttempt, ChargeState
from opiniondesk.billing.providers.base import PaymentStatus, ProviderUnavailable
from opiniondesk.billing.selectors import live_card
from opiniondesk.cases.access import patient_case_for_request
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import PREPARATION_STATES
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.readiness.panels import card_words

SESSION_KEY = "card_setups"  # the setup references this browser was given, per case
KEEP_SETUPS = 5

# What Stripe.js needs (docs.stripe.com/security/guide#content-security-policy), added to the
# site's policy (settings.SECURE_CSP) on a page that loads Stripe.js, and on no other page.
STRIPE_CSP = {
    "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
    "img-src": ["https://*.stripe.com"],
}


def csp_config(*, stripe_js: bool) -> dict[str, list[str]]:
    """The site's policy, with Stripe's origins when the page loads Stripe.js (a test's
    Stripe.js from localstripe is allowed from its own origin)."""
    policy = {name: list(sources) for name, sources in settings.SECURE_CSP.items()}
    if stripe_js:
        parts = urlsplit(settings.STRIPE_JS_URL)
        origin = f"{parts.scheme}://{parts.netloc}"
        extra = STRIPE_CSP
        if origin != "https://js.stripe.com":
            extra = {name: [origin] for name in ("script-src", "frame-src", "connect-src")}
        for name, sources in extra.items():
            kept = [s for s in policy.get(name, []) if s != CSP.NONE]
            policy[name] = kept + sources
    return policy


def _with_csp(request: HttpRequest, response: HttpResponse, *, stripe_js: bool) -> HttpResponse:
    # Whether the page loads Stripe.js is known only now, so the policy is set here rather than
    # by a decorator (django.views.decorators.csp): ContentSecurityPolicyMiddleware leaves a
    # header the view set, and the nonce is the request's, as on every other page.
    # .value: WSGI servers accept only plain str header names (this is a StrEnum).
    policy = build_policy(csp_config(stripe_js=stripe_js), get_nonce(request))
    response[CSP.HEADER_ENFORCE.value] = policy
    return response


def _issued(request: HttpRequest, case: Case) -> list[str]:
    return list(request.session.get(SESSION_KEY, {}).get(str(case.pk), []))


def _remember(request: HttpRequest, case: Case, setup_ref: str) -> None:
    setups = dict(request.session.get(SESSION_KEY, {}))
    setups[str(case.pk)] = [*_issued(request, case), setup_ref][-KEEP_SETUPS:]
    request.session[SESSION_KEY] = setups


def _forget(request: HttpRequest, case: Case) -> None:
    setups = dict(request.session.get(SESSION_KEY, {}))
    setups.pop(str(case.pk), None)
    request.session[SESSION_KEY] = setups


def _charge(case: Case) -> Charge | None:
    return Charge.objects.filter(case=case).select_related("card").first()


def card_may_change(case: Case, charge: Charge | None) -> bool:
    """A card is registered (or replaced) for an online consult while it is being prepared, or
    after a charge to the card failed (the new card is then charged)."""
    if providers.card_provider() is None or case.mode != Mode.ONLINE:
        return False
    if charge is None:
        return case.status in PREPARATION_STATES
    return charge.state == ChargeState.FAILED


def _locale() -> str:
    return "en" if (get_language() or "ja").startswith("en") else "ja"


@login_required
@never_cache
def card_setup(request: HttpRequest, case_id: int) -> HttpResponse:
    """The card the fee is charged to: what is saved, and the card company's form."""
    case = patient_case_for_request(request, case_id)
    charge = _charge(case)
    open_form = card_may_change(case, charge)
    setup, error = None, ""
    if open_form:
        try:
            setup = billing.card_setup_start(case=case, user=request.user)
        except BillingError as exc:
            error = str(exc.message)
        else:
            _remember(request, case, setup.setup_ref)
    audit_read(request, case, page="card")
    card = live_card(case)
    config: dict[str, Any] = {}
    if setup is not None:
        config = {
            "mode": "setup",
            "publishableKey": setup.publishable_key,
            "clientSecret": setup.client_secret,
            "locale": _locale(),
            "name": case.patient_name,
        }
    response = render(
        request,
        "readiness/card/setup.html",
        {
            "case": case,
            "takes_cards": providers.takes_cards(),
            "online": case.mode == Mode.ONLINE,
            "card": card,
            "card_text": card_words(card) if card is not None else "",
            "charge": charge,
            "open_form": setup is not None,
            "error": error,
            "preparing": case.status in PREPARATION_STATES,
            "config": config,
            "texts": _texts(),
            "stripe_js_url": settings.STRIPE_JS_URL,
        },
    )
    return _with_csp(request, response, stripe_js=setup is not None)


@login_required
@require_POST
def card_setup_done(request: HttpRequest, case_id: int) -> HttpResponse:
    """The browser registered the card with the card company: keep it (a failed charge is then
    sent again to it)."""
    case = patient_case_for_request(request, case_id)
    setup_ref = request.POST.get("setup_intent", "").strip()
    if not card_may_change(case, _charge(case)):
        messages.error(request, _("The card cannot be changed now."))
        return redirect("card-setup", case.pk)
    if not setup_ref or setup_ref not in _issued(request, case):
        messages.error(
            request,
            _("This card registration was not started on this page. Please enter the card again."),
        )
        return redirect("card-setup", case.pk)
    try:
        card = billing.card_save(
            case_id=case.pk, setup_ref=setup_ref, user=request.user, request=request
        )
    except BillingError as exc:
        messages.error(request, str(exc.message))
        return redirect("card-setup", case.pk)
    _forget(request, case)
    messages.success(
        request,
        _("Thank you. Your card (%(card)s) is registered.") % {"card": card_words(card)},
    )
    return redirect("case-detail", case.pk)


def _waiting_attempt(charge: Charge) -> ChargeAttempt | None:
    return charge.attempts.filter(state=AttemptState.REQUIRES_ACTION).exclude(reference="").first()


@login_required
@never_cache
def charge_confirm(request: HttpRequest, case_id: int) -> HttpResponse:
    """The card company asks the cardholder to confirm the charge (3-D Secure): Stripe.js shows
    the card company's check, then the page asks Stripe what happened."""
    case = patient_case_for_request(request, case_id)
    charge = _charge(case)
    provider = providers.card_provider()
    if charge is None or provider is None:
        raise Http404
    if request.method == "POST":
        state = billing.payment_check(charge_id=charge.pk)
        if state == ChargeState.PAID:
            messages.success(request, _("Thank you. The consult fee is paid."))
            return redirect("case-detail", case.pk)
        if state == ChargeState.FAILED:
            messages.error(
                request,
                _("The card payment did not go through. Please register another card."),
            )
            return redirect("card-setup", case.pk)
        if state == ChargeState.REQUIRES_ACTION:
            messages.error(
                request, _("The card company has not confirmed the payment. Please try again.")
            )
            return redirect("charge-confirm", case.pk)
        messages.info(request, _("The card company is still processing the payment."))
        return redirect("case-detail", case.pk)
    config: dict[str, Any] = {}
    error = ""
    attempt = _waiting_attempt(charge) if charge.state == ChargeState.REQUIRES_ACTION else None
    if attempt is not None:
        try:
            result = provider.payment_status(reference=attempt.reference)
        except ProviderUnavailable:
            error = _("The card company could not be reached. Please try again in a few minutes.")
        else:
            if result.status is not PaymentStatus.REQUIRES_ACTION or not result.client_secret:
                # Settled one way or the other meanwhile: record it and show where it stands.
                billing.payment_check(charge_id=charge.pk)
                return redirect("charge-confirm", case.pk)
            config = {
                "mode": "confirm",
                "publishableKey": getattr(provider, "publishable_key", ""),
                "clientSecret": result.client_secret,
                "paymentMethod": charge.card.method_ref if charge.card else "",
                "locale": _locale(),
            }
    audit_read(request, case, obj=charge, page="charge confirm")
    response = render(
        request,
        "readiness/card/confirm.html",
        {
            "case": case,
            "charge": charge,
            "needs_confirm": bool(config),
            "error": error,
            "config": config,
            "texts": _texts(),
            "stripe_js_url": settings.STRIPE_JS_URL,
        },
    )
    return _with_csp(request, response, stripe_js=bool(config))


def _texts() -> dict[str, str]:
    return {
        "noStripe": _(
            "The card company's form could not be loaded. Please check your connection and"
            " reload this page."
        ),
        "working": _("Checking the card with the card company…"),
        "failed": _("The card company did not accept the card. Please check it and try again."),
    }
