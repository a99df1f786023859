"""The eligibility catalog kept in memory: no query when warm, and never stale after an edit.

The tests commit for real (transaction=True): the version is bumped once an edit commits, and
inside a transaction the catalog is always read afresh.
"""

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from opiniondesk.api.examples import SPEC_ELIGIBILITY_EXAMPLE
from opiniondesk.catalog import cache as catalog_cache
from opiniondesk.catalog.models import Department, Disease
from opiniondesk.catalog.selectors import eligibility_catalog

pytestmark = pytest.mark.django_db(transaction=True)

ELIGIBILITY_URL = "/api/v1/eligibility/check"
SPEC_EXAMPLE = SPEC_ELIGIBILITY_EXAMPLE
INLINES = ("diseases", "consult_hours", "extra_documents")


@pytest.fixture(autouse=True)
def _cold_cache(demo_catalog):
    catalog_cache._built.clear()
    catalog_cache.bump_catalog_version()


def check(client, **changes):
    """POST SPEC §10's example, with top-level keys replaced, and return the verdict."""
    body = SPEC_EXAMPLE | changes
    response = client.post(
        ELIGIBILITY_URL, json.dumps(body), content_type="application/json", secure=True
    )
    assert response.status_code == 200
    return response.json()


def no_specialist(verdict):
    return "NO_SPECIALIST" in verdict["reasons"]


def management_forms(**forms):
    """The inline formsets' management data: no existing row is touched."""
    data = {}
    for prefix in INLINES:
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(forms.get(prefix, []))),
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for i, form in enumerate(forms.get(prefix, [])):
            data |= {f"{prefix}-{i}-{field}": value for field, value in form.items()}
    return data


def department_form(dept, **changes):
    fields = {
        "code": dept.code,
        "name": dept.name,
        "name_en": dept.name_en,
        "offers_online": dept.offers_online,
        "offers_in_person": dept.offers_in_person,
        "is_active": dept.is_active,
        "position": dept.position,
    } | changes
    # An unchecked box is absent from the POST, as a browser sends it.
    return {k: ("on" if v is True else v) for k, v in fields.items() if v is not False}


def test_it_reads_the_catalog_once_then_answers_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(4):
        eligibility_catalog()
    with django_assert_num_queries(0):
        assert check(client)["eligible"] is True


def test_it_sees_a_department_added_in_the_admin_at_the_next_request(admin_client, client):
    assert no_specialist(check(client, department="oncology", disease="lung_cancer"))

    response = admin_client.post(
        reverse("admin:catalog_department_add"),
        {
            "code": "oncology",
            "name": "腫瘍内科",
            "name_en": "Oncology",
            "offers_online": "on",
            "offers_in_person": "on",
            "is_active": "on",
            "position": "9",
        }
        | management_forms(diseases=[{"code": "lung_cancer", "name": "肺がん", "position": "0"}]),
        secure=True,
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert check(client, department="oncology", disease="lung_cancer")["eligible"] is True


def test_it_sees_online_consults_switched_off_in_the_admin_at_the_next_request(
    admin_client, client
):
    cardiology = Department.objects.get(code="cardiology")
    assert check(client)["eligible"] is True

    response = admin_client.post(
        reverse("admin:catalog_department_change", args=[cardiology.pk]),
        department_form(cardiology, offers_online=False) | management_forms(),
        secure=True,
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert no_specialist(check(client))
    assert check(client, mode="in_person")["eligible"] is True


def test_it_sees_a_department_deleted_in_the_admin_at_the_next_request(admin_client, client):
    cardiology = Department.objects.get(code="cardiology")
    assert check(client)["eligible"] is True

    response = admin_client.post(
        reverse("admin:catalog_department_delete", args=[cardiology.pk]),
        {"post": "yes"},
        secure=True,
    )

    assert response.status_code == 302
    assert no_specialist(check(client))


def test_it_sees_a_disease_deleted_at_the_next_request(client):
    assert check(client)["eligible"] is True

    Disease.objects.get(department__code="cardiology", code="heart_failure").delete()

    assert no_specialist(check(client))


def test_it_reads_afresh_inside_a_transaction_and_bumps_the_version_at_commit(client):
    assert check(client)["eligible"] is True
    version_before = catalog_cache.catalog_version()

    with transaction.atomic():
        Disease.objects.get(department__code="cardiology", code="heart_failure").delete()
        assert "heart_failure" not in eligibility_catalog()["cardiology"].diseases
        assert catalog_cache.catalog_version() == version_before  # not before the commit

    assert catalog_cache.catalog_version() != version_before
    assert no_specialist(check(client))


def test_it_forgets_nothing_kept_when_the_transaction_rolls_back(client):
    assert check(client)["eligible"] is True

    with transaction.atomic():
        Disease.objects.get(department__code="cardiology", code="heart_failure").delete()
        assert "heart_failure" not in eligibility_catalog()["cardiology"].diseases
        transaction.set_rollback(True)

    assert check(client)["eligible"] is True


def test_it_sees_an_edit_made_by_another_process_once_the_local_version_expires(client):
    # Another worker's bump never reaches this process's local-memory cache; an UPDATE, which
    # sends no signal, stands for it here.
    assert check(client)["eligible"] is True
    Department.objects.filter(code="cardiology").update(offers_online=False)
    assert check(client)["eligible"] is True  # still the catalog this process built

    later = timezone.now() + timedelta(seconds=catalog_cache.LOCAL_VERSION_TTL + 1)
    with time_machine.travel(later):
        assert no_specialist(check(client))


def test_it_keeps_the_version_in_a_shared_cache_until_the_next_edit(
    client, settings, tmp_path, django_assert_num_queries
):
    settings.CACHES = settings.CACHES | {
        "catalog": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
        }
    }
    eligibility_catalog()

    with time_machine.travel(timezone.now() + timedelta(days=1)):
        with django_assert_num_queries(0):
            eligibility_catalog()
        Disease.objects.get(department__code="cardiology", code="heart_failure").delete()
        assert no_specialist(check(client))
