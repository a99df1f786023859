"""The patient's card page against localstripe (the browser part, Stripe.js, cannot load
offline: these are server tests)."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.billing.models import CardOnFile
from opiniondesk.cases.workflow import Status
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def case(patient_hana):
    return case_in(Status.ACCEPTED, applicant=patient_hana, mode="online")


def test_the_patient_gets_the_card_form(localstripe, case, patient_hana):
    response = signed_in(patient_hana).get(reverse("card-setup", args=[case.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    policy = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
    assert "unsafe-inline" not in policy["script-src"]
    # The site's policy (a nonce on its scripts) with Stripe.js's origin, on this page only.
    nonce = response.context["csp_nonce"]
    assert policy["script-src"] == f"'self' 'nonce-{nonce}' {localstripe.url}"
    assert policy["frame-src"] == localstripe.url and policy["frame-ancestors"] == "'none'"
    html = response.content.decode()
    assert 'id="card-form"' in html and "readiness/card.js" in html
    assert "seti_" in html  # the SetupIntent's client secret, for Stripe.js only
    assert "<script>" not in html  # no inline script: JSON config and modules only


def test_a_stranger_is_refused(localstripe, case, outsider_eve):
    response = signed_in(outsider_eve).get(reverse("card-setup", args=[case.pk]))
    assert response.status_code == 404
    assert b"seti_" not in response.content


def test_an_unconfirmed_setup_is_refused_and_nothing_saved(localstripe, case, patient_hana):
    hana = signed_in(patient_hana)
    page = hana.get(reverse("card-setup", args=[case.pk]))
    setup_ref = page.context["config"]["clientSecret"].split("_secret_")[0]
    done = reverse("card-setup-done", args=[case.pk])
    response = hana.post(done, {"setup_intent": setup_ref}, follow=True)
    assert "The card was not registered" in response.content.decode()
    # An id this page did not give out is refused before the card company is asked.
    response = hana.post(done, {"setup_intent": "seti_someone_elses"}, follow=True)
    assert "was not started on this page" in response.content.decode()
    assert not CardOnFile.objects.filter(case=case).exists()


def test_a_confirmed_card_is_saved_and_shown_on_the_checklist(localstripe, case, patient_hana):
    from opiniondesk.billing.providers import card_provider

    hana = signed_in(patient_hana)
    page = hana.get(reverse("card-setup", args=[case.pk]))
    setup_ref = page.context["config"]["clientSecret"].split("_secret_")[0]
    card_provider()._client.v1.setup_intents.confirm(  # what Stripe.js does in the browser
        setup_ref, params={"payment_method": "pm_card_visa"}
    )
    response = hana.post(reverse("card-setup-done", args=[case.pk]), {"setup_intent": setup_ref})
    assert response.status_code == 302
    card = CardOnFile.objects.get(case=case, removed_at__isnull=True)
    assert card.last4 == "4242"
    html = hana.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'data-item="payment_method" data-state="done"' in html
    assert "VISA ****4242, expires 12/2030" in html and "Change the card" in html
    assert reverse("card-setup", args=[case.pk]) in html


def test_without_a_provider_the_fee_is_paid_at_the_hospital(case, patient_hana, client):
    response = signed_in(patient_hana).get(reverse("card-setup", args=[case.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and 'id="pay-at-hospital"' in html
    assert 'id="card-form"' not in html and "stripe" not in response["Content-Security-Policy"]
    fees = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("public:fees")).content.decode()
    assert "charged to your registered credit card" not in fees


def test_with_a_provider_the_fees_page_names_the_card(localstripe, seeded):
    # The payment line is part of the fee table's section: the seed's table must be there,
    # not left over by whichever test ran before on this worker.
    fees = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("public:fees")).content.decode()
    assert "credit card you register beforehand" in fees


def test_the_payer_confirms_a_charge_the_card_company_holds(settings, patient_hana):
    """3-D Secure: the page gets the client secret from Stripe, Stripe.js confirms in the
    browser, the POST asks Stripe and records the payment (recorded Stripe answers)."""
    from opiniondesk.billing import services
    from opiniondesk.billing.models import Charge, ChargeState
    from opiniondesk.billing.tests import recorded
    from opiniondesk.testing import stripe as harness
    from opiniondesk.testing.builders import completed_case

    words = "Your card was declined. This transaction requires authentication."
    held = recorded.card_error(
        "authentication_required", "authentication_required", words, "requires_payment_method"
    )
    with recorded.recorded_stripe([(402, held)]) as stripe_server:
        settings.STRIPE_SECRET_KEY = harness.SECRET_KEY
        settings.STRIPE_PUBLISHABLE_KEY = harness.PUBLISHABLE_KEY
        settings.STRIPE_WEBHOOK_SECRET = harness.WEBHOOK_SECRET
        settings.STRIPE_API_BASE = stripe_server.url
        case = completed_case(mode="online", card=True, applicant=patient_hana)
        charge = Charge.objects.get(case=case)
        assert services.charge_send(charge.pk) == ChargeState.REQUIRES_ACTION
        stripe_server.answers = [(200, held["error"]["payment_intent"])]
        hana = signed_in(patient_hana)
        page = hana.get(reverse("charge-confirm", args=[case.pk]))
        assert page.status_code == 200 and "no-store" in page["Cache-Control"]
        assert page.context["config"]["clientSecret"] == "pi_3RecordedAbc123_secret_recorded"
        assert "unsafe-inline" not in page["Content-Security-Policy"]
        stripe_server.answers = [(200, recorded.payment_intent("succeeded"))]
        response = hana.post(reverse("charge-confirm", args=[case.pk]))
    assert response.status_code == 302
    charge.refresh_from_db()
    assert charge.state == ChargeState.PAID
