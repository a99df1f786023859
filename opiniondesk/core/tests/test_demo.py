import pytest
from django.core.management import CommandError, call_command

from opiniondesk.accounts.models import Role, User
from opiniondesk.billing.models import FeeSchedule, FeeTier
from opiniondesk.cases.models import Case
from opiniondesk.catalog.models import ConsultHours, Department, Disease, ExtraDocument
from opiniondesk.documents.models import Document


def _counts():
    return [
        m.objects.count()
        for m in (Department, Disease, ConsultHours, ExtraDocument, FeeSchedule, FeeTier, User)
    ]


@pytest.mark.django_db
def test_it_loads_the_demo_catalog_of_the_spec(settings, capsys):
    settings.DEMO_MODE = True
    call_command("load_demo")
    assert list(Department.objects.values_list("code", flat=True)) == [
        "cardiology",
        "gastroenterology",
        "geriatrics",
        "breast_surgery",
        "neurology",
    ]
    neurology = Department.objects.get(code="neurology")
    assert (neurology.offers_online, neurology.offers_in_person) == (False, True)
    assert list(ExtraDocument.objects.values_list("department__code", "code")) == [
        ("geriatrics", "MEDICATION_LIST")
    ]
    hours = [str(h) for h in Department.objects.get(code="cardiology").consult_hours.all()]
    assert len(hours) == 2
    assert Disease.objects.filter(department__code="cardiology").count() == 4
    out = capsys.readouterr().out
    assert "coordinator_sato" in out and "password" in out


@pytest.mark.django_db
def test_it_is_idempotent_and_keeps_admin_edits(settings):
    settings.DEMO_MODE = True
    call_command("load_demo")
    before = _counts()
    Department.objects.filter(code="cardiology").update(name="循環器内科(編集済)")
    call_command("load_demo")
    assert _counts() == before
    assert Department.objects.get(code="cardiology").name == "循環器内科(編集済)"


@pytest.mark.django_db
def test_it_gives_one_user_per_role_with_working_passwords(settings):
    settings.DEMO_MODE = True
    call_command("load_demo")
    for role in Role:
        assert User.objects.filter(role=role).exists(), role
    tanaka = User.objects.get(username="dr_tanaka")
    assert tanaka.check_password("demo-tanaka-2026")
    assert list(tanaka.departments.values_list("code", flat=True)) == ["cardiology"]


@pytest.mark.django_db
def test_it_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE"):
        call_command("load_demo")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_it_gives_each_persona_work_waiting(settings):
    settings.DEMO_MODE = True
    call_command("load_demo")
    states = sorted(Case.objects.values_list("applicant__username", "status"))
    assert states == [
        ("patient_hana", "draft"),
        ("patient_hana", "submitted"),
        ("proxy_ken", "awaiting_documents"),
    ]
    assert Document.objects.filter(case__applicant__username="proxy_ken").count() == 4
    call_command("load_demo")
    assert Case.objects.count() == 3
