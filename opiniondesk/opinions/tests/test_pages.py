"""The opinion's staff pages: the panel on the case page, the form, the preview and signature,
the correction, the PDF for the post, the delivery details; permission-checked and audited."""

import pytest
from django.urls import reverse
from django.utils import timezone

from opiniondesk.audit.models import AuditEvent
from opiniondesk.cases.models import Case
from opiniondesk.opinions.models import OpinionDelivery, OpinionVersion
from opiniondesk.testing.builders import completed_case


@pytest.fixture
def case(seeded):
    case = completed_case()
    case.questions = "手術は必要ですか？\n薬は続けますか？"
    case.save()
    return case


def form_data(**changes):
    return {
        "on_current": "診断は妥当です。",
        "on_future": "内服継続を推奨します。",
        "answer_0": "不要です。",
        "answer_1": "続けてください。",
        "remarks": "",
    } | changes


def test_the_specialist_writes_previews_signs_and_corrects(client, case, dr_tanaka):
    client.force_login(dr_tanaka)
    page = client.get(reverse("staff-case", args=[case.pk])).content.decode()
    assert reverse("staff-opinion", args=[case.pk]) in page
    page = client.get(reverse("staff-opinion", args=[case.pk]))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "手術は必要ですか？" in page.content.decode()
    response = client.post(reverse("staff-opinion-draft", args=[case.pk]), form_data(preview="1"))
    assert response.status_code == 302
    assert response["Location"] == reverse("staff-opinion-preview", args=[case.pk])
    preview = client.get(response["Location"]).content.decode()
    assert "診断は妥当です。" in preview
    draft = OpinionVersion.objects.get(opinion__case=case)
    # Without the confirmation nothing is signed.
    url = reverse("staff-opinion-sign", args=[case.pk])
    digest = draft.computed_hash(case.pk)
    assert client.post(url, {"previewed_hash": digest}).status_code == 400
    assert OpinionVersion.objects.get(pk=draft.pk).state == "draft"
    assert client.post(url, {"previewed_hash": digest, "confirm": "on"}).status_code == 302
    signed = OpinionVersion.objects.get(pk=draft.pk)
    assert signed.state == "signed" and signed.content_hash == digest
    pdf = client.get(reverse("staff-opinion-pdf", args=[case.pk, signed.pk]))
    assert pdf["Content-Type"] == "application/pdf" and "no-store" in pdf["Cache-Control"]
    assert AuditEvent.objects.filter(
        case_id=case.pk, action="download", object_id=str(signed.pk)
    ).exists()
    # A correction.
    correct = reverse("staff-opinion-correct", args=[case.pk, signed.pk])
    assert client.post(correct, {"reason": "誤記の訂正"}).status_code == 302
    correction = OpinionVersion.objects.get(opinion__case=case, number=2)
    assert correction.corrects == signed and correction.state == "draft"


def test_a_specialist_of_another_department_sees_no_opinion(client, case, dr_mori):
    client.force_login(dr_mori)
    assert client.get(reverse("staff-opinion", args=[case.pk])).status_code == 404
    response = client.post(reverse("staff-opinion-draft", args=[case.pk]), form_data())
    assert response.status_code == 404
    assert not OpinionVersion.objects.exists()


def test_a_coordinator_reads_but_does_not_write(client, case, coordinator_sato):
    client.force_login(coordinator_sato)
    page = client.get(reverse("staff-opinion", args=[case.pk])).content.decode()
    assert 'name="on_current"' not in page
    response = client.post(reverse("staff-opinion-draft", args=[case.pk]), form_data())
    assert response.status_code == 403


def test_staff_fill_in_the_delivery_details_and_record_the_post(
    client, case, dr_tanaka, coordinator_sato
):
    from opiniondesk.opinions import services

    version = services.draft_save(
        case_id=case.pk,
        actor=dr_tanaka,
        on_current="a",
        on_future="b",
        answers=["c", "d"],
        remarks="",
    )
    services.sign(
        version_id=version.pk, actor=dr_tanaka, previewed_hash=version.computed_hash(case.pk)
    )
    client.force_login(coordinator_sato)
    details = reverse("staff-opinion-details", args=[case.pk])
    bad = client.post(details, {"email": "nope"})
    assert bad.status_code == 400
    assert Case.objects.get(pk=case.pk).physician_email == ""
    client.post(
        details,
        {
            "postal_code": "１１３－００３３",
            "address": "東京都架空区本郷1-1-1",
            "fax": "０３－１１１１－２２２２",
            "email": "dr@example.jp",
        },
    )
    saved = Case.objects.get(pk=case.pk)
    assert (saved.physician_postal_code, saved.physician_fax, saved.physician_email) == (
        "113-0033",
        "03-1111-2222",
        "dr@example.jp",
    )
    response = client.post(
        reverse("staff-opinion-post", args=[case.pk]),
        {"posted_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    delivery = OpinionDelivery.objects.get(case=case)
    assert delivery.method == "post" and delivery.created_by == coordinator_sato
