"""The billing desk as Ito (billing clerk) uses it, and as everyone else may not: the queue, a
charge and its actions, the totals and the file for accounting."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.billing import services
from opiniondesk.billing.models import Charge, ChargeState, Receipt, Refund
from opiniondesk.billing.reports import Period
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import jst_today
from opiniondesk.testing.builders import completed_case, completed_case_without_charge

pytestmark = pytest.mark.django_db


def _as(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def ito(billing_ito):
    return _as(billing_ito)


@pytest.fixture
def at_desk():
    return completed_case(call_minutes=25).charge


def _page_ok(response):
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    # The CSP allows no inline script or style: none is written.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    return html


def _post(client, name, charge, data=None):
    return client.post(reverse(name, args=[charge.pk]), data or {})


# The pages, as Ito.


def test_the_staff_home_leads_the_billing_clerk_to_the_desk(ito):
    html = ito.get(reverse("staff-home")).content.decode()
    assert reverse("billing-home") in html
    assert reverse("staff-queue") not in html


def test_the_queue_lists_charges_needing_action_first(ito, billing_ito, at_desk):
    done = completed_case()
    services.collect(charge_id=done.charge.pk, actor=billing_ito, method="cash")
    zero = completed_case(call_minutes=0).charge
    html = _page_ok(ito.get(reverse("billing-home")))
    # The default filter: only what needs action.
    assert at_desk.case.reference in html and zero.case.reference in html
    assert done.reference not in html
    assert reverse("billing-totals") in html  # in the menu
    everything = ito.get(reverse("billing-home"), {"state": ""}).content.decode()
    order = re.findall(r'data-charge="(\d+)"', everything)
    assert order[-1] == str(done.charge.pk)
    assert set(order[:2]) == {str(at_desk.pk), str(zero.pk)}
    only = ito.get(reverse("billing-home"), {"state": "needs_decision"}).content.decode()
    assert re.findall(r'data-charge="(\d+)"', only) == [str(zero.pk)]
    read = AuditEvent.objects.filter(action=AuditAction.READ, detail__page="billing queue")
    assert read.exists()


def test_the_queue_filters_by_days(ito, at_desk):
    Charge.objects.filter(pk=at_desk.pk).update(
        created_at=timezone.make_aware(timezone.datetime(2026, 1, 10, 12))
    )
    html = ito.get(
        reverse("billing-home"), {"state": "", "date_from": "2026-01-10", "date_to": "2026-01-10"}
    ).content.decode()
    assert f'data-charge="{at_desk.pk}"' in html
    html = ito.get(
        reverse("billing-home"), {"state": "", "date_from": "2026-01-11", "date_to": "2026-01-31"}
    ).content.decode()
    assert f'data-charge="{at_desk.pk}"' not in html


def test_the_charge_page_shows_what_the_fee_was_computed_from(ito, at_desk):
    html = _page_ok(ito.get(reverse("billing-charge", args=[at_desk.pk])))
    assert at_desk.case.reference in html
    assert at_desk.schedule.effective_from.strftime("%Y-%m-%d") in html
    assert f"¥{at_desk.amount:,}" in html
    assert reverse("billing-charge-collect", args=[at_desk.pk]) in html
    assert AuditEvent.objects.filter(
        action=AuditAction.READ, case_id=at_desk.case_id, detail__page="charge"
    ).exists()


# Everyone else.


@pytest.mark.parametrize("who", ["coordinator_sato", "dr_tanaka", "patient_hana", "admin_kato"])
@pytest.mark.parametrize("name", ["billing-home", "billing-totals", "billing-export"])
def test_the_desk_pages_are_the_billing_clerks(personas, who, name):
    assert _as(personas[who]).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("who", ["coordinator_sato", "dr_tanaka", "patient_hana"])
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("billing-charge-collect", {"method": "cash", "confirm": "on"}),
        ("billing-charge-waive", {"reason": "x", "confirm": "on"}),
        ("billing-charge-to-desk", {"reason": "x"}),
        ("billing-charge-retry", {}),
        ("billing-charge-bill-zero", {"reason": "x"}),
        ("billing-charge-refund", {"amount": "100", "reason": "x", "confirm": "on"}),
    ],
)
def test_only_the_billing_clerk_acts(personas, at_desk, who, name, data):
    assert _post(_as(personas[who]), name, at_desk, data).status_code == 403
    assert Charge.objects.get(pk=at_desk.pk).state == ChargeState.AT_DESK


def test_a_coordinator_reads_the_charge_without_actions(coordinator_sato, at_desk):
    client = _as(coordinator_sato)
    case_page = client.get(reverse("staff-case", args=[at_desk.case_id])).content.decode()
    assert reverse("billing-charge", args=[at_desk.pk]) in case_page
    html = _page_ok(client.get(reverse("billing-charge", args=[at_desk.pk])))
    assert '<form method="post" action="/staff/billing/' not in html


def test_a_specialist_cannot_read_the_charge(dr_tanaka, at_desk):
    assert _as(dr_tanaka).get(reverse("billing-charge", args=[at_desk.pk])).status_code == 403


# The actions.


def test_collect_records_the_payment_and_issues_the_receipt(ito, at_desk):
    response = _post(
        ito, "billing-charge-collect", at_desk, {"method": "terminal", "confirm": "on"}
    )
    assert response.status_code == 302
    charge = Charge.objects.get(pk=at_desk.pk)
    assert (charge.state, charge.collect_method) == (ChargeState.COLLECTED, "terminal")
    assert Case.objects.get(pk=charge.case_id).status == Status.CHARGED
    assert Receipt.objects.filter(charge=charge).count() == 1
    html = ito.get(response["Location"]).content.decode()
    assert "The payment is recorded and the receipt issued." in html
    assert f'data-receipt="{charge.receipts.get().number}"' in html


@pytest.mark.parametrize(
    "data",
    [
        {"method": "bitcoin", "confirm": "on"},
        {"method": "", "confirm": "on"},
        {"method": "cash"},  # not confirmed
    ],
)
def test_collect_with_a_bad_method_or_unconfirmed_changes_nothing(ito, at_desk, data):
    response = _post(ito, "billing-charge-collect", at_desk, data)
    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    assert Charge.objects.get(pk=at_desk.pk).state == ChargeState.AT_DESK
    assert not Receipt.objects.filter(charge=at_desk).exists()


def test_waive_needs_a_reason(ito, at_desk):
    response = _post(ito, "billing-charge-waive", at_desk, {"reason": "   ", "confirm": "on"})
    assert response.status_code == 400
    assert Charge.objects.get(pk=at_desk.pk).state == ChargeState.AT_DESK
    response = _post(ito, "billing-charge-waive", at_desk, {"reason": "病院都合", "confirm": "on"})
    assert response.status_code == 302
    charge = Charge.objects.get(pk=at_desk.pk)
    assert (charge.state, charge.decision_reason) == (ChargeState.WAIVED, "病院都合")


def test_a_refusal_of_the_service_is_said_and_changes_nothing(ito, billing_ito, at_desk):
    services.collect(charge_id=at_desk.pk, actor=billing_ito, method="cash")
    # A settled fee cannot be waived: the service refuses in its words.
    response = _post(ito, "billing-charge-waive", at_desk, {"reason": "誤り", "confirm": "on"})
    assert response.status_code == 400
    assert "This fee cannot be waived now." in response.content.decode()
    assert Charge.objects.get(pk=at_desk.pk).state == ChargeState.COLLECTED


def test_a_refusal_on_a_japanese_page_changes_nothing(billing_ito, at_desk):
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    client.force_login(billing_ito)
    response = _post(client, "billing-charge-waive", at_desk, {"reason": "", "confirm": "on"})
    assert response.status_code == 400
    assert '<html lang="ja">' in response.content.decode()
    assert Charge.objects.get(pk=at_desk.pk).state == ChargeState.AT_DESK


def test_zero_minutes_are_billed_at_the_first_tier_with_a_reason(ito):
    zero = completed_case(call_minutes=0).charge
    assert zero.state == ChargeState.NEEDS_DECISION
    assert _post(ito, "billing-charge-bill-zero", zero, {"reason": ""}).status_code == 400
    assert Charge.objects.get(pk=zero.pk).amount == 0
    response = _post(ito, "billing-charge-bill-zero", zero, {"reason": "資料確認のみ実施"})
    assert response.status_code == 302
    charge = Charge.objects.get(pk=zero.pk)
    assert charge.state == ChargeState.AT_DESK and charge.tier == 1 and charge.amount > 0


def test_to_desk_is_refused_for_a_fee_already_at_the_desk(ito, at_desk):
    response = _post(ito, "billing-charge-to-desk", at_desk, {"reason": "カード不可"})
    assert response.status_code == 400
    assert "This charge cannot be moved to the hospital desk." in response.content.decode()


def test_retry_is_refused_without_a_card_charge(ito, at_desk):
    response = _post(ito, "billing-charge-retry", at_desk)
    assert response.status_code == 400
    assert "This charge cannot be sent to the card now." in response.content.decode()


@pytest.mark.parametrize("typed", ["１，０００", "¥1,000", "1000円"])
def test_a_partial_refund_reads_the_amount_as_typed(ito, billing_ito, at_desk, typed):
    services.collect(charge_id=at_desk.pk, actor=billing_ito, method="cash")
    response = _post(
        ito,
        "billing-charge-refund",
        at_desk,
        {"amount": typed, "reason": "一部返金", "confirm": "on"},
    )
    assert response.status_code == 302
    charge = Charge.objects.get(pk=at_desk.pk)
    assert charge.refunded == 1000
    assert charge.receipts.filter(kind="corrected").count() == 1


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"amount": "9,999,999", "reason": "返金", "confirm": "on"}, "can be refunded"),
        ({"amount": "abc", "reason": "返金", "confirm": "on"}, "Enter the amount in yen"),
        ({"amount": "0", "reason": "返金", "confirm": "on"}, "Enter the amount in yen"),
        ({"amount": "100", "reason": "", "confirm": "on"}, "Nothing was changed"),
        ({"amount": "100", "reason": "返金"}, "Nothing was changed"),
    ],
)
def test_a_refund_beyond_what_was_paid_or_unclear_is_refused(ito, billing_ito, at_desk, data, said):
    services.collect(charge_id=at_desk.pk, actor=billing_ito, method="cash")
    response = _post(ito, "billing-charge-refund", at_desk, data)
    assert response.status_code == 400
    assert said in response.content.decode()
    assert Charge.objects.get(pk=at_desk.pk).refunded == 0
    assert not Refund.objects.filter(charge=at_desk).exists()


def test_a_refund_of_an_unpaid_fee_is_refused(ito, at_desk):
    response = _post(
        ito, "billing-charge-refund", at_desk, {"amount": "100", "reason": "x", "confirm": "on"}
    )
    assert response.status_code == 400
    assert "Only a paid fee can be refunded." in response.content.decode()


def test_a_missing_charge_is_opened_from_the_queue(ito, billing_ito):
    case = completed_case_without_charge()
    html = ito.get(reverse("billing-home")).content.decode()
    assert f'data-missing-case="{case.pk}"' in html
    response = ito.post(reverse("billing-open-missing", args=[case.pk]))
    assert response.status_code == 302
    charge = Charge.objects.get(case=case)
    assert response["Location"] == reverse("billing-charge", args=[charge.pk])
    again = ito.post(reverse("billing-open-missing", args=[case.pk]))
    assert again.status_code == 302 and again["Location"] == reverse("billing-home")
    assert Charge.objects.filter(case=case).count() == 1


def test_an_unknown_charge_is_404(ito):
    assert ito.get(reverse("billing-charge", args=[999999])).status_code == 404


# Totals and the file.


def test_the_totals_of_this_month(ito, billing_ito):
    one, two = completed_case(), completed_case(call_minutes=45)
    services.collect(charge_id=one.charge.pk, actor=billing_ito, method="cash")
    services.collect(charge_id=two.charge.pk, actor=billing_ito, method="transfer")
    services.refund(charge_id=two.charge.pk, actor=billing_ito, amount=500, reason="返金")
    html = _page_ok(ito.get(reverse("billing-totals")))
    total = one.charge.amount + two.charge.amount
    totals = html[html.index('id="totals"') :]
    assert f"<td>2</td><td>¥{total:,}</td>" in totals
    assert f"¥{total - 500:,}" in totals
    assert jst_today().strftime("%Y-%m") in html[html.index('id="by-month"') :]


def test_the_totals_refuse_a_period_backwards(ito):
    html = ito.get(
        reverse("billing-totals"), {"date_from": "2026-12-31", "date_to": "2026-12-01"}
    ).content.decode()
    assert "The first day comes after the last day." in html


def test_the_file_of_this_month_in_utf8(ito, at_desk):
    response = ito.get(reverse("billing-export"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"] == (
        f'attachment; filename="charges-{jst_today():%Y-%m}.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert at_desk.case.reference in response.content.decode("utf-8-sig")
    download = AuditEvent.objects.get(action=AuditAction.DOWNLOAD, detail__page="billing export")
    assert download.detail["cases"] == [at_desk.case_id]


def test_the_file_in_shift_jis_for_a_period(ito, at_desk):
    Case.objects.filter(pk=at_desk.case_id).update(patient_family_name="髙橋😀")
    today = jst_today()
    response = ito.get(
        reverse("billing-export"),
        {"encoding": "sjis", "date_from": f"{today:%Y-%m-01}", "date_to": f"{today:%Y-%m-%d}"},
    )
    text = response.content.decode("cp932")
    assert "髙橋〓" in text
    assert response["X-Replaced-Characters"] == "1"
    if today != Period.month_of(today).last:
        assert f"charges-{today:%Y-%m-01}_{today:%Y-%m-%d}.csv" in response["Content-Disposition"]
    totals = ito.get(reverse("billing-totals")).content.decode()
    assert 'data-sjis-missing="1"' in totals


def test_retry_charges_the_card_on_file_again(ito):
    """A failed card charge (as the provider's refusal leaves it) is tried again with the card
    on file; the try itself runs in a task after the commit."""
    charge = completed_case(mode="online", card=True).charge
    Charge.objects.filter(pk=charge.pk).update(
        state=ChargeState.FAILED, failure_message="Your card was declined."
    )
    html = ito.get(reverse("billing-home")).content.decode()
    assert "Your card was declined." in html
    response = _post(ito, "billing-charge-retry", charge)
    assert response.status_code == 302
    charge.refresh_from_db()
    assert charge.state == ChargeState.PENDING and charge.card is not None


def test_a_refund_cut_off_is_sent_again(ito, billing_ito, at_desk):
    """The refund row is written before the money moves; one left waiting is finished once."""
    services.collect(charge_id=at_desk.pk, actor=billing_ito, method="cash")
    pending = Refund.objects.create(
        charge=at_desk,
        amount=300,
        reason="返金",
        state="sent",
        idempotency_key="opiniondesk-refund-test",
        made_by=billing_ito,
        made_at=timezone.now(),
    )
    html = ito.get(reverse("billing-charge", args=[at_desk.pk])).content.decode()
    url = reverse("billing-refund-resend", args=[at_desk.pk, pending.pk])
    assert url in html
    assert ito.post(url).status_code == 302
    assert Charge.objects.get(pk=at_desk.pk).refunded == 300
    ito.post(url)  # again: already done, refused, nothing more refunded
    assert Charge.objects.get(pk=at_desk.pk).refunded == 300
