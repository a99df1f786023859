"""Staff corrections of an application (SPEC §11.16): each a new version with the old and new
values, its author, time and reason, shown on the staff case page; audited."""

from datetime import date

import pytest
from django.urls import reverse

from opiniondesk.audit.models import AuditAction, AuditEvent
from opiniondesk.cases.models import Case
from opiniondesk.cases.workflow import Status
from opiniondesk.records.errors import RecordsError
from opiniondesk.records.models import CaseRevision
from opiniondesk.records.services import CORRECTABLE, application_correct
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db


def _form(case, seen=0, **changes):
    data = {name: getattr(case, name) or "" for name in CORRECTABLE}
    data["patient_birth_date"] = case.patient_birth_date.isoformat()
    return data | {"reason": "本人から電話で訂正の申し出", "seen_revisions": seen} | changes


def test_a_correction_is_a_new_version_with_old_and_new_values(coordinator_sato):
    case = case_in(Status.SCREENING)
    old_phone, old_birth = case.patient_phone, case.patient_birth_date
    revision = application_correct(
        case_id=case.pk,
        actor=coordinator_sato,
        values={"patient_phone": "03-1111-2222", "patient_birth_date": date(1970, 1, 2)},
        reason="誤記",
    )
    case.refresh_from_db()
    assert (case.patient_phone, case.patient_birth_date) == ("03-1111-2222", date(1970, 1, 2))
    assert revision.number == 1 and revision.author == coordinator_sato
    assert revision.changes == {
        "patient_phone": {"old": old_phone, "new": "03-1111-2222"},
        "patient_birth_date": {"old": old_birth.isoformat(), "new": "1970-01-02"},
    }
    second = application_correct(
        case_id=case.pk, actor=coordinator_sato, values={"physician_name": "鈴木 一郎"}, reason="x"
    )
    assert second.number == 2
    event = AuditEvent.objects.get(object_type="records.CaseRevision", object_id=str(second.pk))
    assert event.action == AuditAction.UPDATE and event.detail["fields"] == ["physician_name"]


@pytest.mark.parametrize(
    "status,actor,values,reason",
    [
        (Status.DRAFT, "coordinator_sato", {"patient_phone": "03-1111-2222"}, "x"),  # a draft
        (
            Status.SCREENING,
            "dr_tanaka",
            {"patient_phone": "03-1111-2222"},
            "x",
        ),  # not a coordinator
        (
            Status.SCREENING,
            "coordinator_sato",
            {"patient_phone": "03-1111-2222"},
            "  ",
        ),  # no reason
        (Status.SCREENING, "coordinator_sato", {"mode": "in_person"}, "x"),  # not correctable
        (Status.SCREENING, "coordinator_sato", {}, "x"),  # nothing changed
    ],
)
def test_refused_corrections_change_nothing(seeded, status, actor, values, reason, request):
    case = case_in(status)
    before = Case.objects.filter(pk=case.pk).values().get()
    with pytest.raises(RecordsError):
        application_correct(
            case_id=case.pk, actor=request.getfixturevalue(actor), values=values, reason=reason
        )
    assert Case.objects.filter(pk=case.pk).values().get() == before
    assert not CaseRevision.objects.exists()


def test_the_coordinator_corrects_on_the_case_page_and_both_see_the_history(
    client, coordinator_sato, dr_tanaka
):
    case = case_in(Status.ACCEPTED)
    client.force_login(coordinator_sato)
    page = client.get(reverse("staff-case", args=[case.pk]), {"open": "correct"}).content.decode()
    assert reverse("staff-case-correct", args=[case.pk]) in page
    response = client.post(
        reverse("staff-case-correct", args=[case.pk]),
        _form(case, patient_address="東京都千代田区1-1-1", physician_phone="03-9999-0000"),
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#corrections")
    revision = CaseRevision.objects.get(case=case)
    assert sorted(revision.changes) == ["patient_address", "physician_phone"]
    page = client.get(reverse("staff-case", args=[case.pk])).content.decode()
    assert 'data-revision="1"' in page and "東京都千代田区1-1-1" in page
    client.force_login(dr_tanaka)
    page = client.get(reverse("staff-case", args=[case.pk])).content.decode()
    assert 'data-revision="1"' in page and "本人から電話で訂正の申し出" in page
    assert "東京都千代田区1-1-1" not in page  # the patient's contact details stay hidden
    assert "03-9999-0000" in page  # the physician's phone is on the specialist's page anyway
    assert reverse("staff-case-correct", args=[case.pk]) not in page
    assert (
        client.post(reverse("staff-case-correct", args=[case.pk]), _form(case)).status_code == 403
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"patient_family_name_kana": "Yamada"},
        {"patient_phone": "12345"},
        {"patient_postal_code": "1234"},
        {"patient_birth_date": "2999-01-01"},
        {"reason": ""},
        {"patient_family_name": ""},
    ],
)
def test_bad_input_on_the_page_is_refused_and_changes_nothing(client, coordinator_sato, changes):
    case = case_in(Status.SCREENING)
    before = Case.objects.filter(pk=case.pk).values().get()
    client.force_login(coordinator_sato)
    response = client.post(reverse("staff-case-correct", args=[case.pk]), _form(case, **changes))
    assert response.status_code == 200
    assert response.context["correct_form"].errors  # shown again with the error
    assert Case.objects.filter(pk=case.pk).values().get() == before
    assert not CaseRevision.objects.exists()


def test_a_colleagues_correction_since_the_page_was_shown_is_not_undone(client, coordinator_sato):
    case = case_in(Status.SCREENING)
    application_correct(
        case_id=case.pk,
        actor=coordinator_sato,
        values={"patient_phone": "03-1111-2222"},
        reason="x",
    )
    client.force_login(coordinator_sato)
    stale = _form(case, seen=0, patient_address="別の住所")  # the page showed no correction
    response = client.post(reverse("staff-case-correct", args=[case.pk]), stale)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.patient_phone == "03-1111-2222" and case.patient_address != "別の住所"
    assert CaseRevision.objects.filter(case=case).count() == 1
