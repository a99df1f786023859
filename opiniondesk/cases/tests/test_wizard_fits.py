"""The wizard fits who applies, and the privacy policy comes first (SPEC §3, §6; #16 items 6–7).
Through the real pages, as Hana (for herself) and Ken (for his mother Hana)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from opiniondesk.cases import services
from opiniondesk.cases.models import Case, PrivacyPolicy
from opiniondesk.cases.workflow import Status
from opiniondesk.core.time import jst_today
from opiniondesk.documents.models import Document

pytestmark = pytest.mark.django_db

SATO = {
    "family_name": "山田",
    "given_name": "誠",
    "family_name_kana": "ヤマダ",
    "given_name_kana": "マコト",
    "relation": "grandchild",
    "phone": "090-0000-1111",
}


def _page(wizard, step):
    with translation.override("en"):
        return wizard.client.get(reverse("case-step", args=[wizard.case.pk, step]))


def test_a_patient_applying_for_herself_is_not_asked_about_death_nor_family(
    wizard_for, patient_hana
):
    wizard = wizard_for(patient_hana, accept_privacy=False)
    response = wizard.applicant("self")
    assert response.url.endswith("/apply/privacy/")
    assert wizard.privacy().url.endswith("/apply/patient/")  # no family list to fill in
    patient = _page(wizard, "patient").content.decode()
    assert 'name="patient_deceased"' not in patient and 'name="patient_consent"' not in patient
    assert f"/cases/{wizard.case.pk}/apply/proxies/" not in patient  # not among the steps
    assert _page(wizard, "proxies").url.endswith("/apply/patient/")
    wizard.fill_all(relation="self")
    case = Case.objects.get(pk=wizard.case.pk)
    assert case.patient_deceased is False and not case.proxies.exists()
    assert wizard.submit().status_code == 302
    assert Case.objects.get(pk=case.pk).status != Status.DRAFT


def test_a_family_member_types_their_details_once_and_adds_another_attendee(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken, accept_privacy=False)
    first = _page(wizard, "applicant").content.decode()
    assert 'value="山田"' in first  # the name on Ken's account, to confirm
    wizard.applicant()
    assert wizard.privacy().url.endswith("/apply/proxies/")
    page = _page(wizard, "proxies").content.decode()
    assert "山田 健" in page and "090-1234-5678" in page
    assert 'name="form-0-family_name"' in page and 'name="form-1-family_name"' not in page
    assert 'name="action" value="add"' in page

    # "Add another family member": one more row, nothing saved yet.
    revision = Case.objects.get(pk=wizard.case.pk).revision
    added = wizard.proxies(others=[SATO], action="add")
    assert added.status_code == 200
    body = added.content.decode()
    assert 'name="form-1-family_name"' in body and 'value="誠"' in body
    assert Case.objects.get(pk=wizard.case.pk).revision == revision

    assert wizard.proxies(others=[SATO]).url.endswith("/apply/patient/")
    case = Case.objects.get(pk=wizard.case.pk)
    rows = [(p.family_name, p.given_name, p.relation, p.is_applicant) for p in case.proxies.all()]
    assert rows == [("山田", "健", "child", True), ("山田", "誠", "grandchild", False)]
    assert case.applicant_attends is True

    # The consent question lists who will attend; a changed name on step 1 follows everywhere.
    patient = _page(wizard, "patient").content.decode()
    assert 'id="attendees-title"' in patient
    assert patient.index("山田 健") < patient.index('name="patient_consent"')
    assert "山田 誠" in patient
    wizard.applicant(applicant_given_name="健一")
    assert case.proxies.get(is_applicant=True).given_name == "健一"


def test_a_family_member_who_does_not_attend_names_someone_who_does(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken)
    wizard.applicant()
    nobody = wizard.proxies(attends="no")
    assert nobody.status_code == 200
    assert not Case.objects.get(pk=wizard.case.pk).proxies.exists()
    assert wizard.proxies(attends="no", others=[SATO]).status_code == 302
    case = Case.objects.get(pk=wizard.case.pk)
    assert [p.given_name for p in case.proxies.all()] == ["誠"]


def test_nothing_about_the_patient_is_stored_before_the_privacy_policy(wizard_for, proxy_ken):
    wizard = wizard_for(proxy_ken, accept_privacy=False)
    wizard.applicant()
    before = Case.objects.get(pk=wizard.case.pk)
    # Posted directly, past the step order.
    for step, post in (
        ("sheet", wizard.sheet),
        ("patient", wizard.patient),
        ("physician", wizard.physician),
        ("proxies", wizard.proxies),
    ):
        response = post()
        assert response.status_code in (200, 302), step
    upload = wizard.upload("referral_letter")
    assert upload.status_code == 200
    after = Case.objects.get(pk=wizard.case.pk)
    assert after.revision == before.revision
    assert (after.current_diagnosis, after.patient_family_name, after.physician_name) == (
        "",
        "",
        "",
    )
    assert not after.proxies.exists() and not Document.objects.filter(case=after).exists()
    # The step pages send the applicant to the policy first.
    assert _page(wizard, "sheet").url.endswith("/apply/privacy/")
    # And the service itself refuses, whatever page calls it.
    with pytest.raises(services.PrivacyFirst):
        services.case_save_step(
            case_id=after.pk,
            revision=after.revision,
            values={"questions": "手術は必要ですか"},
            actor=proxy_ken,
        )


def test_only_the_policy_in_force_is_offered_and_accepted(wizard_for, proxy_ken):
    in_force = PrivacyPolicy.objects.get(version="demo-1")
    future = PrivacyPolicy.objects.create(
        version="future-2",
        effective_from=jst_today() + timedelta(days=1),
        text_ja="将来の方針",
        purposes_ja="将来の目的",
    )
    wizard = wizard_for(proxy_ken, accept_privacy=False)
    page = _page(wizard, "privacy").content.decode()
    assert "demo-1" in page and "future-2" not in page
    wizard.privacy()
    assert Case.objects.get(pk=wizard.case.pk).privacy_policy == in_force
    with pytest.raises(services.PolicyNotInForce):
        services.case_accept_privacy_policy(
            case_id=wizard.case.pk, revision=wizard.case.revision, policy=future, actor=proxy_ken
        )


def _staff_admin(client, user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(
        *Permission.objects.filter(codename__endswith="privacypolicy"),
    )
    client.force_login(user)
    return client


def test_an_accepted_or_effective_version_is_read_only_in_the_admin(
    client, admin_kato, wizard_for, proxy_ken
):
    future = PrivacyPolicy.objects.create(
        version="next",
        effective_from=jst_today() + timedelta(days=30),
        text_ja="次",
        purposes_ja="次",
    )
    admin = _staff_admin(client, admin_kato)
    url = reverse("admin:cases_privacypolicy_change", args=[future.pk])
    form = {"version": "next", "effective_from": future.effective_from.isoformat(),
            "text_ja": "次（改）", "purposes_ja": "次"}  # fmt: skip
    assert admin.post(url, form, secure=True).status_code == 302  # not accepted, not in force
    assert PrivacyPolicy.objects.get(pk=future.pk).text_ja == "次（改）"

    in_force = PrivacyPolicy.objects.get(version="demo-1")
    url = reverse("admin:cases_privacypolicy_change", args=[in_force.pk])
    page = admin.get(url, secure=True).content.decode()
    assert 'name="text_ja"' not in page  # shown, not editable
    form |= {"version": "demo-1", "effective_from": in_force.effective_from.isoformat()}
    assert admin.post(url, form, secure=True).status_code == 403
    assert PrivacyPolicy.objects.get(pk=in_force.pk).text_ja != "次（改）"
