"""The patient's steps before the consult and the coordinator's identity check (SPEC §6, §11),
through the real services; and the moment a booked case becomes `ready`.

Hana applied for herself (`accepted`); Ken applied for Hana (`proxy_case`) and invites her to
link her own account. Every refused step changes nothing.
"""

import hashlib
from datetime import datetime, timedelta
from itertools import permutations

import pytest
from django.utils import translation

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case, CaseTransition
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import JST
from opiniondesk.documents.models import Document, DocumentKind
from opiniondesk.readiness.models import (
    ConsentSignature,
    DeviceCheck,
    IdentityReview,
    PatientInvitation,
)
from opiniondesk.readiness.rules import IdentityState
from opiniondesk.readiness.selectors import identity_state, readiness_checklist
from opiniondesk.readiness.services import (
    InvitationProblem,
    ReadinessError,
    consent_sign,
    device_check_record,
    identity_review,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    patient_privacy_accept,
)
from opiniondesk.readiness.tests.conftest import CONSENT_EN, CONSENT_JA
from opiniondesk.scheduling.services import booking_cancel, booking_change, booking_create
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.factories import held, snapshot

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=True)
    return time_machine


def refused(call, expected=ReadinessError):
    """The call raises exactly `expected` with a message, and changes nothing."""
    before = snapshot()
    with translation.override("en"), pytest.raises(ReadinessError) as raised:
        call()
    assert type(raised.value) is expected, repr(raised.value)
    with translation.override("en"):
        message = str(raised.value.message)
    assert message.strip()
    assert snapshot() == before
    return message


def audit_of(case, obj, action="create") -> AuditEvent:
    return AuditEvent.objects.filter(
        case_id=case.pk, object_type=obj._meta.label, object_id=str(obj.pk), action=action
    ).get()


# ---------------------------------------------------------------- identity_review


def test_a_coordinator_verifies_an_id(accepted, patient_hana, coordinator_sato, upload_id):
    document = upload_id(accepted, patient_hana, "drivers_licence")
    assert identity_state(accepted) is IdentityState.PENDING

    review = identity_review(document_id=document.pk, actor=coordinator_sato, verified=True)

    assert (review.verified, review.reason, review.reviewed_by) == (True, "", coordinator_sato)
    assert identity_state(accepted) is IdentityState.VERIFIED
    event = audit_of(accepted, document, "update")
    assert event.user == coordinator_sato
    assert event.detail == {"identity": "verified", "id_type": "drivers_licence"}


def test_a_rejection_says_why_and_tells_the_patients_side(
    proxy_case,
    proxy_ken,
    patient_hana,
    coordinator_sato,
    upload_id,
    django_capture_on_commit_callbacks,
    run_tasks,
    smtp_inbox,
):
    factories.link_patient(proxy_case, proxy_ken, patient_hana)
    document = upload_id(proxy_case, proxy_ken, "health_insurance_card")
    run_tasks()  # the mails the steps before sent (queued with their changes)
    smtp_inbox.messages.clear()

    with django_capture_on_commit_callbacks(execute=True):
        review = identity_review(
            document_id=document.pk,
            actor=coordinator_sato,
            verified=False,
            reason="  画像がぼやけていて読めません。  ",
        )
    run_tasks()

    assert (review.verified, review.reason) == (False, "画像がぼやけていて読めません。")
    assert identity_state(proxy_case) is IdentityState.MISSING
    assert sorted(m["To"] for m in smtp_inbox.messages) == [
        "patient_hana@example.jp",
        "proxy_ken@example.jp",
    ]
    assert all("画像がぼやけていて読めません。" in b for b in smtp_inbox.bodies())


def test_a_rejection_needs_a_reason(accepted, patient_hana, coordinator_sato, upload_id):
    document = upload_id(accepted, patient_hana)

    for reason in ("", "  \n"):
        assert "why" in refused(
            lambda reason=reason: identity_review(
                document_id=document.pk, actor=coordinator_sato, verified=False, reason=reason
            )
        )


@pytest.mark.parametrize("who", ["dr_tanaka", "patient_hana", "proxy_ken", "outsider_eve"])
def test_only_a_coordinator_checks_ids(accepted, personas, upload_id, who):
    document = upload_id(accepted, personas["patient_hana"])

    refused(lambda: identity_review(document_id=document.pk, actor=personas[who], verified=True))


@pytest.mark.parametrize("second", [True, False])
def test_an_id_is_checked_once(accepted, patient_hana, coordinator_sato, upload_id, second):
    document = upload_id(accepted, patient_hana)
    identity_review(document_id=document.pk, actor=coordinator_sato, verified=True)

    message = refused(
        lambda: identity_review(
            document_id=document.pk, actor=coordinator_sato, verified=second, reason="x"
        )
    )
    assert "already been checked" in message
    assert IdentityReview.objects.get(document=document).verified is True


def test_only_an_id_can_be_checked(accepted, coordinator_sato):
    letter = Document.objects.filter(case=accepted, kind=DocumentKind.REFERRAL_LETTER).first()

    for document_id in (letter.pk, 999_999):
        refused(
            lambda document_id=document_id: identity_review(
                document_id=document_id, actor=coordinator_sato, verified=True
            )
        )


@pytest.mark.parametrize("who", ["outsider_eve", "coordinator_sato", "dr_tanaka"])
def test_only_the_patients_side_uploads_an_id(accepted, personas, upload_id, who):
    refused(lambda: upload_id(accepted, personas[who]))


# ---------------------------------------------------------------- consent_sign


def sign(case, actor, name="山田 花", version="2026-04", language="ja"):
    return consent_sign(
        case_id=case.pk, actor=actor, signer_name=name, form_version=version, language=language
    )


@pytest.mark.parametrize(
    ("language", "text", "stored"), [("ja", CONSENT_JA, "ja"), ("en", CONSENT_EN, "en")]
)
def test_the_patient_signs_the_consent(
    accepted, patient_hana, consent_form, language, text, stored
):
    signature = sign(accepted, patient_hana, name=" 山田 花 ", language=language)

    assert (signature.form, signature.signed_by, signature.signer_name) == (
        consent_form,
        patient_hana,
        "山田 花",
    )
    assert signature.language == stored
    assert signature.text_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert signature.signed_at is not None
    event = audit_of(accepted, signature)
    assert (event.action, event.user, event.detail["form"]) == ("create", patient_hana, "2026-04")


@pytest.mark.parametrize(
    ("patient", "signed"),
    [
        (("山田", "花"), "山田花"),
        (("山田", "花"), "山田\u3000花"),  # a full-width space
        (("山田", "花"), "\t山田  花\n"),
        (("ヤマダ", "ハナ"), "ﾔﾏﾀﾞ ﾊﾅ"),  # half-width kana
        (("Yamada", "Hana"), "Ｙａｍａｄａ\u3000Ｈａｎａ"),  # full-width letters
        (("Yamada", "Hana"), "YamadaHana"),
    ],
)
def test_the_name_matches_whatever_the_spaces_and_the_width(
    accepted, patient_hana, consent_form, patient, signed
):
    Case.objects.filter(pk=accepted.pk).update(
        patient_family_name=patient[0], patient_given_name=patient[1]
    )

    assert sign(accepted, patient_hana, name=signed).signer_name == signed.strip()


@pytest.mark.parametrize("name", ["", "   ", "山田", "山田 太郎", "花 山田", "yamada hana"])
def test_another_name_is_refused(accepted, patient_hana, consent_form, name):
    assert "山田 花" in refused(lambda: sign(accepted, patient_hana, name=name))


def test_only_the_current_text_can_be_signed(accepted, patient_hana, consent_form, clock):
    from opiniondesk.readiness.models import ConsentForm

    assert "changed" in refused(lambda: sign(accepted, patient_hana, version="2025-04"))
    refused(lambda: sign(accepted, patient_hana, version="2099-01"))
    # a new text comes into force tomorrow: today the April text is still the one to sign
    ConsentForm.objects.create(
        version="2026-12", effective_from=NOW.date() + timedelta(days=1), text_ja="新版"
    )
    refused(lambda: sign(accepted, patient_hana, version="2026-12"))
    sign(accepted, patient_hana, version="2026-04")
    clock.move_to(NOW + timedelta(days=1), tick=True)
    refused(lambda: sign(accepted, patient_hana, version="2026-04"))
    sign(accepted, patient_hana, version="2026-12")


def test_without_a_text_in_force_nothing_can_be_signed(accepted, patient_hana):
    refused(lambda: sign(accepted, patient_hana, version=""))


def test_the_consent_is_signed_once(accepted, patient_hana, consent_form):
    sign(accepted, patient_hana)

    assert "already signed" in refused(lambda: sign(accepted, patient_hana))


def test_only_the_patients_own_account_signs(
    proxy_case, proxy_ken, outsider_eve, coordinator_sato, patient_hana, consent_form
):
    # Hana has not linked her account yet.
    for who in (proxy_ken, outsider_eve, coordinator_sato, patient_hana):
        assert "own account" in refused(lambda who=who: sign(proxy_case, who))
    factories.link_patient(proxy_case, proxy_ken, patient_hana)

    refused(lambda: sign(proxy_case, proxy_ken))
    assert sign(proxy_case, patient_hana).signed_by == patient_hana


def test_an_in_person_consult_needs_no_online_consent(
    patient_hana, coordinator_sato, dr_tanaka, consent_form
):
    case = factories.accepted_case(
        patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka, mode="in_person"
    )

    assert "online consults only" in refused(lambda: sign(case, patient_hana))


def test_nothing_is_signed_before_acceptance_or_after_cancellation(
    accepted, coordinator_sato, patient_hana, consent_form
):
    slot = factories.free_slots(accepted, limit=1)
    offer = factories.offer(accepted, coordinator_sato, slot)
    booking_create(case_id=accepted.pk, actor=patient_hana, offered_slot_id=held(offer)[0].pk)
    booking_cancel(case_id=accepted.pk, actor=patient_hana)

    assert "accepted" in refused(lambda: sign(accepted, patient_hana))


# ---------------------------------------------------------------- device_check_record


def record(case, actor, camera=True, microphone=True, connection=True, **extra):
    return device_check_record(
        case_id=case.pk,
        actor=actor,
        camera_ok=camera,
        microphone_ok=microphone,
        connection_ok=connection,
        round_trip_ms=extra.pop("round_trip_ms", 42),
        **extra,
    )


@pytest.mark.parametrize(
    ("camera", "microphone", "connection"),
    [(True, True, True), (False, True, True), (True, False, True), (True, True, False)],
)
def test_the_patients_side_records_a_device_check(
    proxy_case, proxy_ken, camera, microphone, connection
):
    check = record(
        proxy_case,
        proxy_ken,
        camera,
        microphone,
        connection,
        user_agent="x" * 500,
        detail={"camera": "FaceTime HD"},
    )

    assert check.passed is (camera and microphone and connection)
    assert (check.user, check.round_trip_ms, len(check.user_agent)) == (proxy_ken, 42, 300)
    assert check.detail == {"camera": "FaceTime HD"}
    assert audit_of(proxy_case, check).detail == {"passed": check.passed}
    done = {s.item: s.done for s in readiness_checklist(proxy_case)}
    assert done["device_check"] is check.passed


@pytest.mark.parametrize(
    "who", ["outsider_eve", "coordinator_sato", "dr_tanaka", "patient_hana"]
)  # Hana is not linked yet
def test_only_the_patients_side_records_a_device_check(proxy_case, personas, who):
    refused(lambda: record(proxy_case, personas[who]))


# ---------------------------------------------------------------- invitations


@pytest.fixture
def invited(proxy_case, proxy_ken):
    token = invitation_create(
        case_id=proxy_case.pk, actor=proxy_ken, email="patient_hana@example.jp"
    )
    return proxy_case, token


def test_the_applicant_invites_the_patient(
    proxy_case, proxy_ken, clock, django_capture_on_commit_callbacks, run_tasks, smtp_inbox
):
    clock.move_to(NOW, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        token = invitation_create(
            case_id=proxy_case.pk, actor=proxy_ken, email="hana.yamada@example.jp"
        )
    run_tasks()

    invitation = PatientInvitation.objects.get(case=proxy_case)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    assert invitation.created_at == NOW
    assert invitation.expires_at == NOW + timedelta(days=14)
    assert audit_of(proxy_case, invitation).detail == {"email": "hana.yamada@example.jp"}
    [mail] = smtp_inbox.messages
    assert mail["To"] == "hana.yamada@example.jp"
    assert token in smtp_inbox.bodies()[0]


def test_a_new_invitation_revokes_the_open_one(invited, proxy_ken, patient_hana):
    case, first = invited

    second = invitation_create(case_id=case.pk, actor=proxy_ken, email="hana@example.jp")

    assert "not valid" in refused(lambda: invitation_for_token(first), InvitationProblem)
    refused(lambda: invitation_accept(token=first, actor=patient_hana), InvitationProblem)
    assert invitation_for_token(second).email == "hana@example.jp"


@pytest.mark.parametrize("who", ["patient_hana", "outsider_eve", "coordinator_sato"])
def test_only_the_applicant_invites(proxy_case, personas, who):
    refused(lambda: invitation_create(case_id=proxy_case.pk, actor=personas[who], email="a@b.jp"))


def test_no_invitation_once_the_patient_is_linked(accepted, invited, patient_hana, proxy_ken):
    case, token = invited
    invitation_accept(token=token, actor=patient_hana)

    refused(lambda: invitation_create(case_id=case.pk, actor=proxy_ken, email="a@b.jp"))
    # a patient applying for herself is her own account already
    refused(lambda: invitation_create(case_id=accepted.pk, actor=patient_hana, email="a@b.jp"))


def test_the_patient_links_her_own_account(invited, patient_hana, outsider_eve):
    case, token = invited

    linked = invitation_accept(token=token, actor=patient_hana)

    assert linked.patient_account == patient_hana
    assert Case.objects.get(pk=case.pk).patient_account_id_effective == patient_hana.pk
    invitation = PatientInvitation.objects.get(case=case)
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (patient_hana, True)
    assert AuditEvent.objects.filter(
        case_id=case.pk, user=patient_hana, detail__patient_account_linked=patient_hana.pk
    ).exists()
    # used once
    assert "already been used" in refused(lambda: invitation_for_token(token), InvitationProblem)
    refused(lambda: invitation_accept(token=token, actor=outsider_eve), InvitationProblem)


def test_an_invitation_expires(invited, patient_hana, clock):
    _, token = invited
    expires_at = PatientInvitation.objects.get().expires_at
    clock.move_to(expires_at - timedelta(seconds=1), tick=False)
    assert invitation_for_token(token).expires_at == expires_at
    clock.move_to(expires_at, tick=False)

    assert "expired" in refused(
        lambda: invitation_accept(token=token, actor=patient_hana), InvitationProblem
    )


@pytest.mark.parametrize(
    ("who", "message"),
    [("proxy_ken", "family member who applied"), ("coordinator_sato", "own account")],
)
def test_the_applicants_or_a_staff_account_cannot_accept(invited, personas, who, message):
    _, token = invited

    assert message in refused(
        lambda: invitation_accept(token=token, actor=personas[who]), InvitationProblem
    )


def test_an_unknown_token_is_not_valid(patient_hana):
    refused(lambda: invitation_accept(token="nonsense", actor=patient_hana), InvitationProblem)


# ---------------------------------------------------------------- case_check_ready


@pytest.fixture
def steps(proxy_ken, patient_hana, coordinator_sato, upload_id, consent_form):
    """The five things that make Ken's application for Hana ready, each a real call."""
    ken, hana, sato = proxy_ken, patient_hana, coordinator_sato

    def make(case, offer):
        def link():  # Hana's own account, and with it her own acceptance of the policy
            factories.link_patient(case, ken, hana)
            patient_privacy_accept(case_id=case.pk, actor=hana, version=case.privacy_policy.version)

        def identity():
            document = upload_id(case, ken, "my_number_card")
            identity_review(document_id=document.pk, actor=sato, verified=True)

        def consent():
            sign(case, hana)

        def device():
            record(case, ken)

        def book():
            booking_create(case_id=case.pk, actor=ken, offered_slot_id=held(offer)[0].pk)

        return {
            "link": link,
            "identity": identity,
            "consent": consent,
            "device": device,
            "book": book,
        }

    return make


ORDERS = [
    order
    for order in permutations(["link", "identity", "consent", "device", "book"])
    if order.index("link") < order.index("consent")  # Hana signs from her own account
]


def ready_transitions(case):
    return CaseTransition.objects.filter(case=case, to_status=Status.READY)


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_a_booked_online_case_is_ready_exactly_when_the_last_item_is_done(
    proxy_ken, coordinator_sato, dr_tanaka, steps, order
):
    case = factories.proxy_case(proxy_ken, None, coordinator=coordinator_sato, specialist=dr_tanaka)
    offer = factories.offer(case, coordinator_sato, factories.free_slots(case, limit=1))
    do = steps(case, offer)

    for number, step in enumerate(order, start=1):
        do[step]()
        case.refresh_from_db()
        if number < len(order):
            assert case.status in (Status.OFFERED, Status.BOOKED), (step, case.status)
            assert case.status == (Status.BOOKED if "book" in order[:number] else Status.OFFERED)
    assert case.status == Status.READY
    [transition] = ready_transitions(case)
    assert (transition.from_status, transition.actor, transition.actor_role) == (
        "booked",
        None,
        "system",
    )
    assert all(state.done for state in readiness_checklist(case) if state.required)


def test_an_in_person_case_needs_only_the_verified_identity(
    coordinator_sato, patient_hana, dr_tanaka, upload_id, consent_form
):
    sato, hana = coordinator_sato, patient_hana
    case = factories.accepted_case(hana, coordinator=sato, specialist=dr_tanaka, mode="in_person")
    offer = factories.offer(case, sato, factories.free_slots(case, limit=1))
    booking_create(case_id=case.pk, actor=hana, offered_slot_id=held(offer)[0].pk)
    first = upload_id(case, hana, "pension_book")
    second = upload_id(case, hana, "resident_record")

    identity_review(document_id=first.pk, actor=sato, verified=True)
    case.refresh_from_db()
    assert case.status == Status.BOOKED  # one ID without a photo is not enough

    identity_review(document_id=second.pk, actor=sato, verified=True)
    case.refresh_from_db()
    assert case.status == Status.READY
    assert [s.item for s in readiness_checklist(case) if s.required] == ["identity"]


def test_an_in_person_case_verified_before_booking_is_ready_on_booking(
    coordinator_sato, patient_hana, dr_tanaka, upload_id
):
    sato, hana = coordinator_sato, patient_hana
    case = factories.accepted_case(hana, coordinator=sato, specialist=dr_tanaka, mode="in_person")
    document = upload_id(case, hana, "passport")
    identity_review(document_id=document.pk, actor=sato, verified=True)
    offer = factories.offer(case, sato, factories.free_slots(case, limit=1))
    assert Case.objects.get(pk=case.pk).status == Status.OFFERED

    booking_create(case_id=case.pk, actor=sato, offered_slot_id=held(offer)[0].pk)

    assert Case.objects.get(pk=case.pk).status == Status.READY
    assert [t.to_status for t in CaseTransition.objects.filter(case=case).order_by("pk")][-2:] == [
        "booked",
        "ready",
    ]


def test_a_rejected_id_or_a_failed_check_does_not_make_a_case_ready(
    proxy_ken, patient_hana, coordinator_sato, dr_tanaka, upload_id, steps
):
    case = factories.proxy_case(
        proxy_ken, patient_hana, coordinator=coordinator_sato, specialist=dr_tanaka
    )
    patient_privacy_accept(case_id=case.pk, actor=patient_hana, version=case.privacy_policy.version)
    offer = factories.offer(case, coordinator_sato, factories.free_slots(case, limit=1))
    do = steps(case, offer)
    do["book"]()
    do["consent"]()
    record(case, proxy_ken, camera=False)
    rejected = upload_id(case, proxy_ken, "passport")
    identity_review(
        document_id=rejected.pk, actor=coordinator_sato, verified=False, reason="期限切れ"
    )
    assert Case.objects.get(pk=case.pk).status == Status.BOOKED

    do["device"]()
    assert Case.objects.get(pk=case.pk).status == Status.BOOKED
    do["identity"]()
    assert Case.objects.get(pk=case.pk).status == Status.READY


def test_while_a_card_is_required_no_online_case_is_ready(
    proxy_ken, coordinator_sato, dr_tanaka, steps, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_configured"  # a card provider: the card is a step
    case = factories.proxy_case(proxy_ken, None, coordinator=coordinator_sato, specialist=dr_tanaka)
    offer = factories.offer(case, coordinator_sato, factories.free_slots(case, limit=1))
    for step in steps(case, offer).values():
        step()

    case = Case.objects.get(pk=case.pk)
    assert case.status == Status.BOOKED
    assert [s.item for s in readiness_checklist(case) if s.required and not s.done] == [
        "payment_method"
    ]


def test_a_ready_case_stays_ready_when_moved_and_is_cancelled_like_a_booked_one(
    coordinator_sato, proxy_ken, dr_tanaka, patient_hana, steps
):
    sato = coordinator_sato
    case = factories.proxy_case(proxy_ken, None, coordinator=sato, specialist=dr_tanaka)
    slots = factories.free_slots(case, limit=2)
    offer = factories.offer(case, sato, slots)
    for step in steps(case, offer).values():
        step()
    assert Case.objects.get(pk=case.pk).status == Status.READY

    booking_change(case_id=case.pk, actor=patient_hana, offered_slot_id=held(offer)[1].pk)
    assert Case.objects.get(pk=case.pk).status == Status.READY
    booking_cancel(case_id=case.pk, actor=proxy_ken)
    assert Case.objects.get(pk=case.pk).status == Status.CANCELLED
    assert not DeviceCheck.objects.filter(case=case, camera_ok=False).exists()
    assert ConsentSignature.objects.filter(case=case).count() == 1
