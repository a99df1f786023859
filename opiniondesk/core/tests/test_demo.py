import pytest
from django.core.management import CommandError, call_command

from opiniondesk.accounts.models import User
from opiniondesk.billing.models import FeeSchedule, FeeTier
from opiniondesk.cases.models import Case
from opiniondesk.catalog.models import ConsultHours, Department, Disease, ExtraDocument


def _counts():
    return [
        m.objects.count()
        for m in (Department, Disease, ConsultHours, ExtraDocument, FeeSchedule, FeeTier, User)
    ]


@pytest.mark.django_db
def test_it_loads_the_demo_catalog_of_the_spec(settings, capsys):
    settings.DEMO_MODE = True
    call_command("load_demo", no_history=True)
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
    # --no-history: none of the year of past cases behind the lead-time page
    assert not User.objects.filter(username__startswith="past_patient_").exists()


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
def test_it_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    before = _counts()
    with pytest.raises(CommandError, match="DEMO_MODE"):
        call_command("load_demo")
    assert _counts() == before  # the test database's own catalog and personas, no more
    assert not Case.objects.exists()
