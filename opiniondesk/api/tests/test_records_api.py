"""API tokens on the authenticated API, the consult record and the fee (issue #13): a bad token is
a JSON 401, a missing scope a JSON 403, each role sees what its pages show, and the billing
staff's actions go through billing.services, refusals changing nothing."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from opiniondesk.accounts import services as tokens
from opiniondesk.accounts.mfa import enrol_demo_factor
from opiniondesk.accounts.models import ApiToken
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.api.tests.conftest import Api
from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.billing.models import Charge, ChargeState, Receipt, Refund
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.consults.models import ChatMessage, Consult, Side
from opiniondesk.testing.builders import completed_case

ALL_SCOPES = list(Scope.values)


def url(case, tail=""):
    return f"/api/v1/cases/{case.pk}/{tail}"


@pytest.fixture
def token_for(admin_kato):
    """A client sending a new token of `user` with `scopes` (all by default)."""

    def make(user, scopes=ALL_SCOPES, **changes):
        token, secret = tokens.api_token_create(
            name="EMR",
            user=user,
            scopes=list(scopes),
            expires_at=changes.pop("expires_at", None),
            actor=admin_kato,
        )
        client = Client(headers={"Accept-Language": "en", "Authorization": f"Bearer {secret}"})
        return Api(client), token

    return make


@pytest.fixture
def case(seeded):
    case = completed_case(call_minutes=25, review_minutes=15)
    consult = Consult.objects.get(case=case)
    consult.notes = "Discussed the echo."
    consult.present_patient_side = ["山田 花"]
    consult.save()
    ChatMessage.objects.create(
        consult=consult, at=timezone.now(), side=Side.PATIENT, user=case.applicant, text="Hello"
    )
    return case


def post(api, path, body):
    return api.post(path, body)


def state(case):
    charge = Charge.objects.get(case=case)
    return (
        charge.state,
        charge.refunded,
        Case.objects.get(pk=case.pk).status,
        Receipt.objects.count(),
        Refund.objects.count(),
    )


# Authentication ---------------------------------------------------------------------------


def test_a_token_reads_as_its_user_and_is_audited(token_for, billing_ito, case):
    api, token = token_for(billing_ito, [Scope.CHARGES_READ])
    response = api.get(url(case, "charge"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == ChargeState.AT_DESK and body["billable_minutes"] == 40
    event = AuditEvent.objects.filter(action=AuditAction.READ).latest("sequence")
    assert event.user == billing_ito and event.case_id == case.pk
    assert event.detail == {"api": "charge", "api_token": token.pk}
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    api.get(url(case, "charge"))  # within the minute: no second write
    token.refresh_from_db()
    assert token.last_used_at == first_use


@pytest.mark.parametrize("header", ["Bearer odk_nothing", "Bearer", "Bearer a b", "bearer x"])
def test_an_unknown_token_is_a_json_401(seeded, case, header):
    client = Client(headers={"Authorization": header, "Accept-Language": "en"})
    response = Api(client).get(url(case, "charge"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("why", ["revoked", "expired"])
def test_a_revoked_or_expired_token_is_a_json_401_and_audited(
    token_for, admin_kato, billing_ito, case, why
):
    api, token = token_for(billing_ito)
    if why == "revoked":
        tokens.api_token_revoke(token_id=token.pk, actor=admin_kato)
    else:
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
    before = state(case)
    response = api.post(url(case, "charge/collect"), {"method": "cash"})
    assert response.status_code == 401
    assert why in response.json()["detail"]
    assert state(case) == before
    event = AuditEvent.objects.filter(action=AuditAction.DENIED).latest("sequence")
    assert event.detail["why"] == why and event.detail["api_token"] == token.pk


def test_a_token_without_the_scope_is_a_json_403(token_for, billing_ito, case):
    api, token = token_for(billing_ito, [Scope.CHARGES_READ])
    before = state(case)
    response = api.post(url(case, "charge/collect"), {"method": "cash"})
    assert response.status_code == 403
    assert "charges:write" in response.json()["detail"]
    assert state(case) == before
    response = api.get(url(case, "consult"))
    assert response.status_code == 403 and "consults:read" in response.json()["detail"]
    event = AuditEvent.objects.filter(action=AuditAction.DENIED).latest("sequence")
    assert event.user == billing_ito and event.detail["api_token"] == token.pk


def test_scopes_cover_the_older_endpoints_too(token_for, coordinator_sato, case):
    api, _token = token_for(coordinator_sato, [Scope.CHARGES_READ])
    assert api.get("/api/v1/cases").status_code == 403
    assert api.get(url(case, "schedule")).status_code == 403
    api, _token = token_for(coordinator_sato, [Scope.CASES_READ, Scope.SCHEDULE_READ])
    assert api.get("/api/v1/cases").status_code == 200
    assert api.get(url(case)[:-1]).status_code == 200
    assert api.get(url(case, "schedule")).status_code == 200


def test_a_token_needs_no_csrf_and_a_session_still_does(api_as, token_for, billing_ito, case):
    api, _token = token_for(billing_ito)
    assert api.post(url(case, "charge/collect"), {"method": "cash"}).status_code == 200
    # The session API is as before: no CSRF token, no write.
    enrol_demo_factor(billing_ito)
    session = api_as(billing_ito, enforce_csrf_checks=True)
    response = session.post(url(case, "charge/waive"), {"reason": "x"})
    assert response.status_code == 403


def test_a_token_of_a_user_no_longer_staff_stops_working(token_for, billing_ito, case):
    api, _token = token_for(billing_ito)
    billing_ito.is_active = False
    billing_ito.save()
    assert api.get(url(case, "charge")).status_code == 401


def test_without_session_or_token_it_is_a_401_that_asks_for_a_token(seeded, case):
    response = Api(Client()).get(url(case, "charge"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# Who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "consult", "clinical", "charge"),
    [
        ("coordinator_sato", 200, True, 200),
        ("dr_tanaka", 200, True, 403),
        ("billing_ito", 200, False, 200),
        ("dr_mori", 404, None, 404),  # another department's specialist: not their case
        ("admin_kato", 404, None, 404),  # administrators see no cases
    ],
)
def test_each_role_sees_what_its_pages_show(
    request, token_for, case, who, consult, clinical, charge
):
    api, _token = token_for(request.getfixturevalue(who))
    response = api.get(url(case, "consult"))
    assert response.status_code == consult, response.content
    if consult == 200:
        body = response.json()
        assert body["billable_minutes"] == 40 and body["end_reason"] == "specialist"
        assert body["review_seconds"] == 15 * 60 and body["call_seconds"] >= 25 * 60
        assert body["present_patient_side"] == ["山田 花"]
        if clinical:
            assert body["notes"] == "Discussed the echo."
            assert [m["text"] for m in body["messages"]] == ["Hello"]
        else:
            assert body["notes"] is None and body["messages"] is None
    assert api.get(url(case, "charge")).status_code == charge


def test_a_patient_never_reaches_the_staff_endpoints(api_as, case):
    api = api_as(case.applicant)
    assert api.get(url(case, "consult")).status_code == 403
    assert api.get(url(case, "charge")).status_code == 403
    assert api.post(url(case, "charge/collect"), {"method": "cash"}).status_code == 403
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, case_id=case.pk).exists()


def test_a_patient_cannot_hold_a_token(admin_kato, patient_hana):
    with pytest.raises(tokens.TokenError):
        tokens.api_token_create(
            name="x", user=patient_hana, scopes=ALL_SCOPES, expires_at=None, actor=admin_kato
        )


def test_the_charge_shows_no_secrets(token_for, coordinator_sato, case):
    api, _token = token_for(coordinator_sato)
    body = api.get(url(case, "charge")).json()
    text = str(body)
    assert "idempotency" not in text and "reference" not in text and "opiniondesk-" not in text


def test_no_consult_or_fee_yet_is_a_404(token_for, coordinator_sato, make_case, patient_hana):
    api, _token = token_for(coordinator_sato)
    early = make_case(patient_hana)
    assert api.get(url(early, "consult")).status_code == 404
    assert api.get(url(early, "charge")).status_code == 404


# The billing staff's actions --------------------------------------------------------------


def test_collect_settles_the_fee_and_issues_the_receipt(token_for, billing_ito, case):
    api, token = token_for(billing_ito)
    response = api.post(url(case, "charge/collect"), {"method": "terminal"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "collected" and body["collect_method"] == "terminal"
    assert body["settled_by"] == "billing_ito"
    assert [r["kind"] for r in body["receipts"]] == ["original"]
    assert Case.objects.get(pk=case.pk).status == Status.CHARGED
    update = AuditEvent.objects.filter(action=AuditAction.UPDATE, case_id=case.pk).first()
    assert update is not None and update.detail["api_token"] == token.pk
    # Again: the fee is settled now, a 409 that names the state.
    before = state(case)
    again = api.post(url(case, "charge/collect"), {"method": "cash"})
    assert again.status_code == 409
    assert again.json()["code"] == "state" and again.json()["state"] == "collected"
    assert state(case) == before


def test_waive_and_refund(token_for, billing_ito, seeded):
    api, _token = token_for(billing_ito)
    waived = completed_case(call_minutes=10)
    response = api.post(url(waived, "charge/waive"), {"reason": "Cut short by our network."})
    assert response.status_code == 200 and response.json()["state"] == "waived"
    paid = completed_case(call_minutes=10)
    api.post(url(paid, "charge/collect"), {"method": "cash"})
    amount = Charge.objects.get(case=paid).amount
    response = api.post(url(paid, "charge/refund"), {"amount": 1000, "reason": "Wrong tier."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["refunded"] == 1000 and body["refundable"] == amount - 1000
    assert [r["state"] for r in body["refunds"]] == ["done"]
    assert [r["kind"] for r in body["receipts"]] == ["original", "corrected"]
    assert body["receipts"][1]["corrects"] == body["receipts"][0]["number"]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("collect", {"method": "gold"}, "method"),
        ("collect", {}, "method"),
        ("collect", {"method": "cash", "extra": 1}, "extra"),
        ("waive", {"reason": "   "}, "reason"),
        ("waive", {"reason": 5}, "reason"),
        ("refund", {"amount": 0, "reason": "x"}, "amount"),
        ("refund", {"amount": "100", "reason": "x"}, "amount"),
        ("refund", {"amount": 10**12, "reason": "x"}, "amount"),
        ("refund", {"amount": 100, "reason": ""}, "reason"),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(token_for, billing_ito, case, action, body, field):
    api, _token = token_for(billing_ito)
    before = state(case)
    response = api.post(url(case, f"charge/{action}"), body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert state(case) == before


def test_a_refund_beyond_what_was_paid_is_refused(token_for, billing_ito, case):
    api, _token = token_for(billing_ito)
    api.post(url(case, "charge/collect"), {"method": "cash"})
    before = state(case)
    amount = Charge.objects.get(case=case).amount
    response = api.post(url(case, "charge/refund"), {"amount": amount + 1, "reason": "x"})
    assert response.status_code == 409 and response.json()["code"] == "amount"
    assert state(case) == before


def test_a_refund_of_an_unpaid_fee_is_a_409(token_for, billing_ito, case):
    api, _token = token_for(billing_ito)
    before = state(case)
    response = api.post(url(case, "charge/refund"), {"amount": 100, "reason": "x"})
    assert response.status_code == 409 and response.json()["state"] == "at_desk"
    assert state(case) == before


@pytest.mark.parametrize("who", ["coordinator_sato", "dr_tanaka"])
def test_only_billing_staff_act_on_the_fee(request, token_for, case, who):
    api, _token = token_for(request.getfixturevalue(who))
    before = state(case)
    for action, body in [
        ("collect", {"method": "cash"}),
        ("waive", {"reason": "x"}),
        ("refund", {"amount": 1, "reason": "x"}),
    ]:
        assert api.post(url(case, f"charge/{action}"), body).status_code == 403
    assert state(case) == before


def test_a_malformed_body_is_a_400(token_for, billing_ito, case):
    api, _token = token_for(billing_ito)
    response = api.post(url(case, "charge/collect"), b"{not json")
    assert response.status_code == 400


def test_a_refund_sent_again_with_its_idempotency_key_refunds_once(token_for, billing_ito, case):
    api, _token = token_for(billing_ito)
    api.post(url(case, "charge/collect"), {"method": "cash"})
    body = json.dumps({"amount": 4000, "reason": "Wrong tier."})

    def refund(key, data=body):
        return api.client.post(
            url(case, "charge/refund"),
            data,
            content_type="application/json",
            secure=True,
            headers={"Idempotency-Key": key},
        )

    first = refund("emr-refund-0001")
    again = refund("emr-refund-0001")  # the system timed out and sent it again
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["refunded"] == 4000 == Charge.objects.get(case=case).refunded
    assert Charge.objects.get(case=case).refunds.count() == 1
    assert Receipt.objects.filter(charge__case=case).count() == 2  # original + one corrected

    before = state(case)
    other = refund("emr-refund-0001", json.dumps({"amount": 5000, "reason": "Wrong tier."}))
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    bad = refund("not a key!")
    assert bad.status_code == 400 and "idempotency_key" in bad.json()
    assert state(case) == before
    assert refund("emr-refund-0002").json()["refunded"] == 8000  # a new key is a new refund
