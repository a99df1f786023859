"""The work queue's filter form, kept per process for the queues most asked for (desk/queue.py):
what each person sees is still their own — their departments, their language, the state they
chose, a department's new name at once — and a search is never kept.

Transactional: the form is kept only outside a transaction (catalog_cached), as in production."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opiniondesk.catalog.models import Department

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user, language="ja") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def filters(client, query="") -> str:
    html = client.get(reverse("staff-queue") + query).content.decode()
    return re.search(r'<form method="get" class="queue-filters".*?</form>', html, re.S)[0]


def options(form: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', form, re.S)[0]
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def departments_read(queries) -> int:
    return sum('FROM "catalog_department"' in q["sql"] for q in queries.captured_queries)


def test_the_coordinators_form_is_kept_and_follows_the_catalog(coordinator_sato):
    sato = signed_in(coordinator_sato)
    first, reload = filters(sato), filters(sato, "?auto=1")
    with CaptureQueriesContext(connection) as again:
        assert filters(sato) == first and filters(sato, "?auto=1") == reload
    assert departments_read(again) == 0  # kept: the departments were not read again
    names = options(first, "department")
    assert names[0] == "すべての診療科" and len(names) == Department.objects.count() + 1

    department = Department.objects.order_by("position", "code").first()
    department.name = "循環器内科（新）"
    department.save()  # the catalog's version changes when this commits
    assert "循環器内科（新）" in options(filters(sato), "department")


def test_the_chosen_state_and_the_language_are_each_their_own(coordinator_sato):
    sato, english = signed_in(coordinator_sato), signed_in(coordinator_sato, "en")
    landing, screening = filters(sato), filters(sato, "?state=screening")
    assert '<option value="screening" selected>' in screening
    assert '<option value="screening" selected>' not in landing
    assert filters(sato) == landing  # the tab did not replace the landing page's form
    assert "All departments" in filters(english) and "すべての診療科" in filters(sato)


def test_a_search_is_never_kept(coordinator_sato):
    sato = signed_in(coordinator_sato)
    searched = filters(sato, "?q=%E5%B1%B1%E7%94%B0")  # 山田
    assert 'value="山田"' in searched
    assert "山田" not in filters(sato) and "山田" not in filters(sato, "?state=all")


def test_each_specialist_sees_their_own_departments(dr_tanaka, dr_mori):
    tanaka, mori = filters(signed_in(dr_tanaka)), filters(signed_in(dr_mori))
    for user, form in ((dr_tanaka, tanaka), (dr_mori, mori)):
        own = [d.name for d in user.departments.order_by("position", "code")]
        assert options(form, "department")[1:] == own
    assert tanaka != mori
    assert filters(signed_in(dr_tanaka)) == tanaka
