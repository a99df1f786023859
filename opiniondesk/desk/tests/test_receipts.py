"""Receipt downloads and the fee on the patient's case page: the applicant downloads the receipts
of their case, the billing staff any receipt; everyone else is refused. Every copy after the
first is a reissue (再発行); every download is audited."""

import pytest
from django.test import Client
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.billing import services
from opiniondesk.billing.models import Charge, ChargeState, Receipt, ReceiptKind
from opiniondesk.billing.panels import patient_fee_panel
from opiniondesk.testing.builders import completed_case, ready_case
from opiniondesk.testing.pdf import pdf_text

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def paid(billing_ito):
    """Hana's 25-minute consult at the hospital, paid in cash: one receipt."""
    case = completed_case(mode="in_person", call_minutes=25)
    services.collect(charge_id=case.charge.pk, actor=billing_ito, method="cash")
    return case


def _url(case, receipt):
    return reverse("case-receipt", args=[case.pk, receipt.pk])


def _downloads(receipt):
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.DOWNLOAD, object_type="billing.Receipt", object_id=str(receipt.pk)
        ).order_by("sequence")
    )


def test_the_patient_downloads_the_receipt(paid, patient_hana):
    receipt = paid.charge.receipts.get()
    response = as_user(patient_hana).get(_url(paid, receipt))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="receipt-{receipt.number:06d}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "領収書" in text and "山田 花 様" in text
    assert "再発行" not in text
    [event] = _downloads(receipt)
    assert event.user == patient_hana
    assert event.case_id == paid.pk
    assert event.detail == {"number": receipt.number, "reissue": False}


def test_the_second_download_is_a_reissue(paid, patient_hana):
    receipt = paid.charge.receipts.get()
    client = as_user(patient_hana)
    first = client.get(_url(paid, receipt))
    second = client.get(_url(paid, receipt))
    assert "再発行" not in pdf_text(first.content)
    assert "再発行" in pdf_text(second.content)
    assert [event.detail["reissue"] for event in _downloads(receipt)] == [False, True]
    receipt.refresh_from_db()
    assert receipt.first_downloaded_at is not None


def test_the_billing_staff_download_any_receipt(paid, billing_ito, patient_hana):
    receipt = paid.charge.receipts.get()
    response = as_user(billing_ito).get(reverse("staff-receipt", args=[receipt.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert "再発行" not in pdf_text(response.content)
    # The patient's copy after the staff's is a reissue of the same number.
    again = as_user(patient_hana).get(_url(paid, receipt))
    assert "再発行" in pdf_text(again.content)
    assert [event.user for event in _downloads(receipt)] == [billing_ito, patient_hana]


def test_a_stranger_gets_nothing(paid, outsider_eve):
    receipt = paid.charge.receipts.get()
    response = as_user(outsider_eve).get(_url(paid, receipt))
    assert response.status_code == 404
    assert _downloads(receipt) == []
    receipt.refresh_from_db()
    assert receipt.first_downloaded_at is None
    assert AuditEvent.objects.filter(
        action=AuditAction.DENIED, user=outsider_eve, case_id=paid.pk
    ).exists()
    assert as_user(outsider_eve).get(reverse("staff-receipt", args=[receipt.pk])).status_code in (
        403,
        404,
    )


@pytest.mark.parametrize("who", ["coordinator_sato", "dr_tanaka"])
def test_other_staff_cannot_download(paid, personas, who):
    receipt = paid.charge.receipts.get()
    client = as_user(personas[who])
    assert client.get(_url(paid, receipt)).status_code == 403
    assert client.get(reverse("staff-receipt", args=[receipt.pk])).status_code == 403
    assert _downloads(receipt) == []
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, user=personas[who]).exists()


def test_the_billing_staff_use_the_staff_address(paid, billing_ito):
    receipt = paid.charge.receipts.get()
    assert as_user(billing_ito).get(_url(paid, receipt)).status_code == 403


def test_a_receipt_of_another_case_is_not_found(paid, billing_ito, patient_hana):
    other = completed_case(mode="in_person", call_minutes=10)  # also Hana's
    services.collect(charge_id=other.charge.pk, actor=billing_ito, method="transfer")
    receipt = other.charge.receipts.get()
    client = as_user(patient_hana)
    assert client.get(reverse("case-receipt", args=[paid.pk, receipt.pk])).status_code == 404
    assert _downloads(receipt) == []
    assert client.get(reverse("case-receipt", args=[other.pk, receipt.pk])).status_code == 200


def test_an_unknown_receipt_is_not_found(paid, billing_ito, patient_hana):
    missing = Receipt.objects.order_by("-pk").first().pk + 1000
    assert (
        as_user(patient_hana).get(reverse("case-receipt", args=[paid.pk, missing])).status_code
        == 404
    )
    assert as_user(billing_ito).get(reverse("staff-receipt", args=[missing])).status_code == 404


def test_a_download_is_a_get(paid, patient_hana, billing_ito):
    receipt = paid.charge.receipts.get()
    assert as_user(patient_hana).post(_url(paid, receipt)).status_code == 405
    assert as_user(billing_ito).post(reverse("staff-receipt", args=[receipt.pk])).status_code == 405


def test_signed_out_is_sent_to_sign_in(paid):
    receipt = paid.charge.receipts.get()
    response = Client().get(_url(paid, receipt))
    assert response.status_code == 302
    assert _downloads(receipt) == []


# The fee on the patient's case page.


def _page(case, user) -> str:
    response = as_user(user).get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_no_fee_section_before_the_consult(patient_hana):
    case = ready_case(mode="in_person")
    assert patient_fee_panel(case) == {"fee": None}
    assert 'id="fee"' not in _page(case, patient_hana)


def test_a_fee_to_pay_at_the_desk(patient_hana):
    case = completed_case(mode="in_person", call_minutes=25)
    assert case.charge.state == ChargeState.AT_DESK
    page = _page(case, patient_hana)
    assert 'id="fee"' in page
    assert "Please pay at the hospital&#x27;s desk." in page
    assert "25 minutes" in page
    assert '<dd id="fee-amount">¥44,000</dd>' in page
    assert "¥4,000 (10%)" in page
    assert "Receipts" not in page


def test_a_paid_fee_lists_its_receipt(paid, patient_hana):
    receipt = paid.charge.receipts.get()
    page = _page(paid, patient_hana)
    assert "Paid (cash)" in page
    assert f"No. {receipt.number:06d}" in page
    assert f'href="{_url(paid, receipt)}"' in page


def test_a_refund_shows_the_corrected_receipt_and_the_replaced_one(paid, patient_hana, billing_ito):
    original = paid.charge.receipts.get()
    services.refund(charge_id=paid.charge.pk, actor=billing_ito, amount=4_000, reason="返金")
    corrected = Receipt.objects.get(kind=ReceiptKind.CORRECTED, charge=paid.charge)
    page = _page(paid, patient_hana)
    assert f"(replaced by No. {corrected.number:06d})" in page
    assert '<span class="badge">corrected</span>' in page
    assert "¥40,000" in page  # the corrected receipt's amount
    assert f'href="{_url(paid, corrected)}"' in page
    assert f'href="{_url(paid, original)}"' in page
    # The corrected receipt downloads and names the one it replaces.
    text = pdf_text(as_user(patient_hana).get(_url(paid, corrected)).content)
    assert "領収書（訂正）" in text
    assert f"No. {original.number:06d}" in text


def test_a_failed_card_charge_says_what_the_card_company_said(patient_hana):
    case = completed_case(mode="in_person", call_minutes=25)
    Charge.objects.filter(pk=case.charge.pk).update(
        state=ChargeState.FAILED, failure_message="Your card was declined."
    )
    page = _page(case, patient_hana)
    assert "The payment by card could not be made." in page
    assert "Your card was declined." in page
    # Without a card provider there is no card page to link to: pay at the hospital.
    assert "card-setup-link" not in page
    assert "call" in page.lower()


def test_the_panel_offers_a_new_card_only_with_a_card_provider(settings):
    case = completed_case(mode="in_person", call_minutes=25)
    Charge.objects.filter(pk=case.charge.pk).update(state=ChargeState.FAILED)
    settings.STRIPE_SECRET_KEY = ""
    assert patient_fee_panel(case)["card_provider"] is False
    settings.STRIPE_SECRET_KEY = "sk_test_only"
    panel = patient_fee_panel(case)
    assert panel["card_provider"] is True
    assert panel["fee"]["failed"] is True


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (ChargeState.NEEDS_DECISION, "The hospital is confirming the fee"),
        (ChargeState.PENDING, "Being charged to your registered card."),
        (ChargeState.PROCESSING, "Being charged to your registered card."),
        (ChargeState.REQUIRES_ACTION, "Your card company asks you to confirm the payment."),
        (ChargeState.PAID, "Paid (card)"),
        (ChargeState.WAIVED, "No fee is charged for this consult."),
    ],
)
def test_every_state_has_words_for_the_patient(patient_hana, state, words):
    case = completed_case(mode="in_person", call_minutes=25)
    Charge.objects.filter(pk=case.charge.pk).update(state=state)
    page = _page(case, patient_hana)
    assert words in page
    assert ("fee-amount" in page) is (state != ChargeState.WAIVED)


def test_a_declined_card_links_to_a_new_card_and_3d_secure_to_its_confirmation(
    card_company, patient_hana
):
    from opiniondesk.billing.providers.base import PaymentStatus

    card_company.answer, card_company.message = PaymentStatus.FAILED, "Your card was declined."
    declined = completed_case(mode="online", card=True)
    services.charge_send(declined.charge.pk)
    page = _page(declined, patient_hana)
    assert "Your card was declined." in page
    assert f'href="{reverse("card-setup", args=[declined.pk])}"' in page
    assert reverse("charge-confirm", args=[declined.pk]) not in page
    # The card page itself answers, for the patient, while the charge has failed.
    assert as_user(patient_hana).get(reverse("card-setup", args=[declined.pk])).status_code == 200

    card_company.answer = PaymentStatus.REQUIRES_ACTION
    confirming = completed_case(mode="online", card=True)
    services.charge_send(confirming.charge.pk)
    page = _page(confirming, patient_hana)
    assert "Your card company asks you to confirm the payment." in page
    assert f'href="{reverse("charge-confirm", args=[confirming.pk])}"' in page
