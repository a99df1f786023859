"""The written opinion (SPEC §9): drafts, signing, corrections, the PDF, the physician's one-time
link, the post, the patient's copy, the disclosures (§11.14) and the case closing."""

import re
from datetime import timedelta

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.billing import services as billing
from opiniondesk.billing.models import Charge
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.core.sqlite_triggers import missing
from opiniondesk.opinions import services
from opiniondesk.opinions.errors import OpinionError
from opiniondesk.opinions.guard import SQLITE_TRIGGERS
from opiniondesk.opinions.models import (
    DeliveryMethod,
    Disclosure,
    OpinionDelivery,
    OpinionVersion,
    SignedVersionFrozen,
    content_hash,
)
from opiniondesk.opinions.pdf import opinion_pdf
from opiniondesk.opinions.questions import split_questions
from opiniondesk.testing.builders import completed_case
from opiniondesk.testing.pdf import pdf_text

QUESTIONS = "1. 手術は必要でしょうか？\n２．薬は続けてよいですか？\n(3) 運動はできますか"


def said(words, response):
    """The page says it in the language it was served in (Japanese by default)."""
    with translation.override(response.get("Content-Language", "ja")):
        return translation.gettext(words) in response.content.decode()


def refused(call, code):
    with pytest.raises(OpinionError) as caught:
        call()
    assert caught.value.code == code, caught.value.code


def write(case, who, **changes):
    values = {
        "on_current": "慢性心不全の診断は妥当です。",
        "on_future": "現在の内服治療の継続をお勧めします。",
        "answers": None,
        "remarks": "",
    } | changes
    if values["answers"] is None:
        values["answers"] = [f"回答{i + 1}" for i in range(len(split_questions(case.questions)))]
    return services.draft_save(case_id=case.pk, actor=who, **values)


def signed_opinion(case, who):
    version = write(case, who)
    return services.sign(
        version_id=version.pk, actor=who, previewed_hash=version.computed_hash(case.pk)
    )


def charged(case, billing_ito):
    billing.collect(charge_id=Charge.objects.get(case=case).pk, actor=billing_ito, method="cash")
    case.refresh_from_db()
    assert case.status == Status.CHARGED
    return case


@pytest.fixture
def case(seeded):
    case = completed_case()
    case.questions = QUESTIONS
    case.physician_email = "suzuki@hongo-clinic.example.jp"
    case.physician_postal_code = "113-0033"
    case.physician_address = "東京都架空区本郷1-1-1"
    case.save()
    return case


# The questions.


def test_questions_are_split_one_per_numbered_item_or_line():
    assert split_questions(QUESTIONS) == [
        "手術は必要でしょうか？",
        "薬は続けてよいですか？",
        "運動はできますか",
    ]
    assert split_questions("手術は必要？ 薬は？") == ["手術は必要？", "薬は？"]
    assert split_questions("・食事\n\n① 仕事") == ["食事", "仕事"]
    assert split_questions(" \n") == []


# Drafts and signing.


def test_the_department_specialist_drafts_with_an_answer_for_each_question(case, dr_tanaka):
    version = write(case, dr_tanaka)
    assert version.number == 1 and version.state == "draft"
    assert [a["question"] for a in version.answers] == split_questions(QUESTIONS)
    assert [a["answer"] for a in version.answers] == ["回答1", "回答2", "回答3"]
    again = write(case, dr_tanaka, remarks="追記")
    assert again.pk == version.pk and again.remarks == "追記"
    assert AuditEvent.objects.filter(case_id=case.pk, object_type="opinions.OpinionVersion").count()


@pytest.mark.parametrize("who", ["dr_mori", "coordinator_sato", "billing_ito", "patient_hana"])
def test_only_the_department_s_specialist_writes(case, personas, who):
    refused(lambda: write(case, personas[who]), "not_specialist")
    assert not OpinionVersion.objects.filter(opinion__case=case).exists()


def test_nothing_is_written_before_the_consult_has_ended(seeded, dr_tanaka):
    from opiniondesk.testing.builders import case_in

    booked = case_in(Status.ACCEPTED)
    refused(lambda: write(booked, dr_tanaka), "consult_not_ended")


def test_a_wrong_number_of_answers_is_refused(case, dr_tanaka):
    refused(lambda: write(case, dr_tanaka, answers=["only one"]), "answers")


def test_signing_records_who_when_and_the_hash_of_the_content(case, dr_tanaka):
    version = signed_opinion(case, dr_tanaka)
    assert version.state == "signed" and version.signed_by == dr_tanaka
    assert version.signed_at is not None
    assert version.content_hash == content_hash(
        case_id=case.pk, number=1, content=version.content()
    )
    assert len(version.content_hash) == 64
    # Another case or version number gives another hash for the same words.
    assert version.content_hash != content_hash(
        case_id=case.pk, number=2, content=version.content()
    )


def test_signing_refuses_what_was_not_previewed_and_what_is_incomplete(case, dr_tanaka):
    version = write(case, dr_tanaka, on_future="")
    refused(
        lambda: services.sign(
            version_id=version.pk, actor=dr_tanaka, previewed_hash=version.computed_hash(case.pk)
        ),
        "incomplete",
    )
    version = write(case, dr_tanaka)
    refused(
        lambda: services.sign(version_id=version.pk, actor=dr_tanaka, previewed_hash="0" * 64),
        "changed",
    )
    assert OpinionVersion.objects.get(pk=version.pk).state == "draft"


def test_a_signed_version_never_changes(case, dr_tanaka):
    version = signed_opinion(case, dr_tanaka)
    refused(lambda: write(case, dr_tanaka, remarks="changed"), "signed")
    version.remarks = "changed"
    with pytest.raises(SignedVersionFrozen):
        version.save()
    with pytest.raises(SignedVersionFrozen):
        version.delete()
    # Not even SQL that skips the model gets through: the database refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        OpinionVersion.objects.filter(pk=version.pk).update(remarks="changed")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM opinions_opinionversion WHERE id = %s", [version.pk])
    assert OpinionVersion.objects.get(pk=version.pk).remarks == ""


@pytest.mark.sqlite
def test_the_sqlite_trigger_comes_back_after_a_migration_that_dropped_it(case, dr_tanaka):
    """SQLite drops a table's triggers when a migration rebuilds it; post_migrate puts it back."""
    version = signed_opinion(case, dr_tanaka)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER opinions_signed_version_no_update")
    assert missing(connection, list(SQLITE_TRIGGERS)) == ["opinions_signed_version_no_update"]
    with transaction.atomic():  # unguarded now: the SQL goes through (rolled back)
        OpinionVersion.objects.filter(pk=version.pk).update(remarks="changed")
        transaction.set_rollback(True)

    emit_post_migrate_signal(0, False, "default")

    assert missing(connection, list(SQLITE_TRIGGERS)) == []
    with pytest.raises(IntegrityError), transaction.atomic():
        OpinionVersion.objects.filter(pk=version.pk).update(remarks="changed")
    assert OpinionVersion.objects.get(pk=version.pk).remarks == ""


def test_a_correction_is_a_new_signed_version_naming_what_it_corrects(case, dr_tanaka):
    first = signed_opinion(case, dr_tanaka)
    refused(
        lambda: services.correction_start(version_id=first.pk, actor=dr_tanaka, reason=" "),
        "reason",
    )
    correction = services.correction_start(
        version_id=first.pk, actor=dr_tanaka, reason="薬剤名の誤記"
    )
    assert correction.number == 2 and correction.corrects == first
    assert correction.state == "draft" and correction.on_current == first.on_current
    refused(
        lambda: services.correction_start(version_id=first.pk, actor=dr_tanaka, reason="x"),
        "draft_open",
    )
    correction = write(case, dr_tanaka, on_current="訂正後の所見")
    signed = services.sign(
        version_id=correction.pk,
        actor=dr_tanaka,
        previewed_hash=correction.computed_hash(case.pk),
    )
    assert signed.signed and signed.corrects_id == first.pk
    assert signed.correction_reason == "薬剤名の誤記"
    first.refresh_from_db()
    assert first.on_current == "慢性心不全の診断は妥当です。"  # the corrected one is kept as it was


# The PDF.


def test_the_pdf_is_a_japanese_reply_to_the_physician(case, dr_tanaka):
    version = signed_opinion(case, dr_tanaka)
    text = pdf_text(opinion_pdf(version))
    squeezed = re.sub(r"\s+", "", text)
    assert "\ufffd" not in text
    for words in (
        "診療情報提供書へのご返事",
        "セカンドオピニオン回答書",
        "見本町クリニック内科鈴木一郎先生御侍史",
        case.patient_name.replace(" ", ""),
        "現在の診断・治療について",
        "今後の治療方針・見通しについて",
        "手術は必要でしょうか？",
        "回答1",
        "その他",
        "田中健一",
        version.content_hash[:16],
    ):
        assert words in squeezed, words
    b = case.patient_birth_date
    assert f"{b.year}年{b.month}月{b.day}日" in squeezed


# The physician's one-time link.


@pytest.fixture
def send_link(smtp_inbox, run_tasks, committed, coordinator_sato):
    """Send the physician's link as the coordinator; the token read from the mail received."""

    def send(case):
        run_tasks()  # the mails of the case's earlier steps, queued with their changes
        before = len(smtp_inbox.messages)
        committed(lambda: services.link_send(case_id=case.pk, actor=coordinator_sato))
        run_tasks()
        [message] = smtp_inbox.messages[before:]
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert message["To"] == "suzuki@hongo-clinic.example.jp"
        assert "鈴木一郎 先生 御侍史" in body and case.reference in body
        assert case.patient_family_name not in body + message["Subject"]  # no patient data
        return re.search(r"/opinion/([A-Za-z0-9_-]+)/", body).group(1)

    return send


def test_the_link_opens_once_after_a_confirmation_and_every_attempt_is_audited(
    case, dr_tanaka, send_link, client
):
    version = signed_opinion(case, dr_tanaka)
    token = send_link(case)
    url = reverse("opinion-link", args=[token])
    # A mail scanner's GET opens nothing.
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "慢性心不全の診断は妥当です" not in response.content.decode()
    delivery = OpinionDelivery.objects.get(case=case)
    assert delivery.opened_at is None and delivery.delivered_at is None
    # The confirmation opens it.
    response = client.post(url, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    assert "慢性心不全の診断は妥当です" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.opened_at is not None and delivery.delivered_at is not None
    # The PDF from that browser.
    pdf = client.get(reverse("opinion-link-pdf", args=[delivery.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # A second open is refused, in both steps, from any browser.
    for attempt in (client.get, client.post):
        response = attempt(url)
        assert response.status_code == 410
        assert said("The link has already been opened.", response)
    other = type(client)()
    assert other.get(reverse("opinion-link-pdf", args=[delivery.pk])).status_code == 410
    events = AuditEvent.objects.filter(case_id=case.pk).order_by("sequence")
    denied = events.filter(action=AuditAction.DENIED, detail__opinion_link="used")
    assert denied.count() == 2
    assert events.filter(source_address="198.51.100.7").exists()
    assert events.filter(action=AuditAction.READ, object_type="opinions.OpinionDelivery").count()
    assert Disclosure.objects.get(delivery=delivery).version == version


def test_an_expired_or_unknown_link_is_refused(case, dr_tanaka, send_link, client):
    signed_opinion(case, dr_tanaka)
    token = send_link(case)
    assert client.get(reverse("opinion-link", args=["x" * 43])).status_code == 404
    OpinionDelivery.objects.filter(case=case).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for attempt in (client.get, client.post):
        response = attempt(reverse("opinion-link", args=[token]))
        assert response.status_code == 410
        assert said("The link has expired.", response)
    assert not OpinionDelivery.objects.filter(case=case, delivered_at__isnull=False).exists()
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.filter(detail__opinion_link="unknown").exists()
    assert AuditEvent.objects.filter(case_id=case.pk, detail__opinion_link="expired").count() == 2


def test_a_new_link_replaces_the_unopened_one(case, dr_tanaka, send_link, client):
    signed_opinion(case, dr_tanaka)
    first = send_link(case)
    second = send_link(case)
    assert client.post(reverse("opinion-link", args=[first])).status_code == 410
    assert client.post(reverse("opinion-link", args=[second])).status_code == 200


def test_no_link_without_a_signed_opinion_or_an_address(case, dr_tanaka, coordinator_sato):
    refused(lambda: services.link_send(case_id=case.pk, actor=coordinator_sato), "not_signed")
    signed_opinion(case, dr_tanaka)
    Case.objects.filter(pk=case.pk).update(physician_email="")
    refused(lambda: services.link_send(case_id=case.pk, actor=coordinator_sato), "email")


# The post, disclosures and closing.


def test_posting_is_recorded_as_a_delivery_and_a_disclosure(case, dr_tanaka, coordinator_sato):
    version = signed_opinion(case, dr_tanaka)
    today = timezone.localdate()
    refused(
        lambda: services.post_record(
            case_id=case.pk, actor=coordinator_sato, posted_on=today + timedelta(days=1)
        ),
        "date",
    )
    delivery = services.post_record(case_id=case.pk, actor=coordinator_sato, posted_on=today)
    assert delivery.method == DeliveryMethod.POST and delivery.delivered_at is not None
    assert "東京都架空区本郷1-1-1" in delivery.recipient_address
    disclosure = Disclosure.objects.get(delivery=delivery)
    assert disclosure.recipient_name == "鈴木一郎"
    assert disclosure.recipient_institution == "見本町クリニック"
    assert disclosure.version == version and disclosure.method == "post"
    assert disclosure.disclosed_by == coordinator_sato
    assert disclosure.basis == "application_consent"
    assert case.privacy_policy.version in disclosure.basis_detail


def test_delivered_then_charged_closes_the_case_when_the_fee_is_settled(
    case, dr_tanaka, coordinator_sato, billing_ito
):
    signed_opinion(case, dr_tanaka)
    services.post_record(case_id=case.pk, actor=coordinator_sato, posted_on=timezone.localdate())
    case.refresh_from_db()
    assert case.status == Status.COMPLETED  # the fee is not settled yet
    billing.collect(charge_id=Charge.objects.get(case=case).pk, actor=billing_ito, method="cash")
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert list(case.transitions.values_list("to_status", "actor_role"))[-2:] == [
        ("charged", "billing_clerk"),
        ("closed", "system"),
    ]


def test_charged_then_delivered_closes_the_case_on_delivery(
    case, dr_tanaka, billing_ito, send_link, client
):
    charged(case, billing_ito)
    signed_opinion(case, dr_tanaka)
    token = send_link(case)
    case.refresh_from_db()
    assert case.status == Status.CHARGED  # sent, not opened
    client.post(reverse("opinion-link", args=[token]))
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert case.transitions.last().actor_role == "system"


def test_charged_without_a_delivery_stays_charged(case, billing_ito):
    charged(case, billing_ito)
    assert Case.objects.get(pk=case.pk).status == Status.CHARGED


# The patient's copy.


@pytest.mark.parametrize("allowed", [True, False])
def test_the_patient_s_copy_follows_the_hospital_s_setting(
    case, dr_tanaka, coordinator_sato, patient_hana, client, settings, allowed
):
    settings.OPINION_PATIENT_COPY = allowed
    signed_opinion(case, dr_tanaka)
    client.force_login(patient_hana)
    url = reverse("case-opinion-copy", args=[case.pk])
    assert client.get(url).status_code == 404  # not delivered yet
    services.post_record(case_id=case.pk, actor=coordinator_sato, posted_on=timezone.localdate())
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    response = client.get(url)
    if allowed:
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert url in page
    else:
        assert response.status_code == 404
        assert url not in page


def test_another_patient_gets_no_copy(case, dr_tanaka, coordinator_sato, outsider_eve, client):
    signed_opinion(case, dr_tanaka)
    services.post_record(case_id=case.pk, actor=coordinator_sato, posted_on=timezone.localdate())
    client.force_login(outsider_eve)
    assert client.get(reverse("case-opinion-copy", args=[case.pk])).status_code == 404
