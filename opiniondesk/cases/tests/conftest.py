"""A helper that fills the application wizard as a real user does (the personas are in
opiniondesk/testing)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opiniondesk.cases.models import Case
from opiniondesk.catalog.models import Department, Disease
from opiniondesk.documents.tests import samples


def pdf_file(name="letter.pdf"):
    return SimpleUploadedFile(name, samples.pdf(), content_type="application/pdf")


class Wizard:
    """Posts each step with the case's current revision, as the browser form would."""

    def __init__(self, client, case):
        self.client, self.case = client, case

    def post(self, step, data, action="next"):
        self.case.refresh_from_db()
        url = reverse("case-step", args=[self.case.pk, step])
        return self.client.post(url, {"revision": self.case.revision, "action": action, **data})

    def applicant(self, relation="child", **extra):
        data = {"applicant_relation": relation}
        if relation != "self":
            data |= {
                "applicant_family_name": "山田",
                "applicant_given_name": "健",
                "applicant_family_name_kana": "やまだ",
                "applicant_given_name_kana": "けん",
                "applicant_phone": "090-1234-5678",
                "applicant_lives_with_patient": "no",
            }
        return self.post("applicant", data | extra)

    def proxies(self, attends="yes", others=(), action="next"):
        """Ken attends (his details come from the first step); `others` are more rows."""
        data = {
            "applicant_attends": attends,
            "form-TOTAL_FORMS": str(len(others)),
            "form-INITIAL_FORMS": "0",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "5",
        }
        for n, person in enumerate(others):
            data |= {f"form-{n}-{k}": v for k, v in person.items()}
        return self.post("proxies", data, action=action)

    def patient(self, birth=(1950, 4, 1), consent="signed", **extra):
        data = {
            "patient_family_name": "山田",
            "patient_given_name": "花",
            "patient_family_name_kana": "ヤマダ",
            "patient_given_name_kana": "ハナ",
            "patient_birth_date_0": birth[0],
            "patient_birth_date_1": birth[1],
            "patient_birth_date_2": birth[2],
            "patient_sex": "female",
            "patient_postal_code": "000-0000",
            "patient_address": "東京都架空区見本町1-2-3",
            "patient_phone": "03-1234-5678",
            "patient_email": "hana@example.jp",
            "patient_deceased": "no",
            "patient_resides_in_japan": "yes",
            "patient_has_japanese_insurance": "yes",
            "patient_consent": consent,
        }
        return self.post("patient", data | extra)

    def consult(self, department="cardiology", disease="heart_failure", mode="online"):
        dept = Department.objects.get(code=department)
        return self.post(
            "consult",
            {
                "mode": mode,
                "department": dept.pk,
                "disease": Disease.objects.get(department=dept, code=disease).pk,
                "joining_from_japan": "yes",
            },
        )

    def sheet(self):
        return self.post(
            "sheet",
            {
                "current_diagnosis": "慢性心不全",
                "treatment_so_far": "内服治療",
                "wants_opinion_on_current": "on",
                "wants_opinion_on_future": "on",
                "questions": "手術は必要でしょうか。",
            },
        )

    def physician(self, **declarations):
        answers = {
            "attending_physician_agrees": "yes",
            "wants_tests_or_treatment_here": "no",
            "wants_transfer": "no",
            "complaint_or_litigation": "no",
            "fee_or_benefit_question": "no",
            "can_provide_materials": "yes",
        }
        return self.post(
            "physician",
            {
                "physician_name": "鈴木一郎",
                "physician_institution": "見本町クリニック",
                "physician_department": "内科",
                "physician_phone": "03-9876-5432",
                **answers,
                **declarations,
            },
        )

    def privacy(self):
        return self.post("privacy", {"accept": "on"})

    def upload(self, kind, file=None, **extra):
        url = reverse("case-documents", args=[self.case.pk])
        return self.client.post(url, {"kind": kind, "file": file or pdf_file(), **extra})

    def all_documents(self):
        proxy = self.case.proxies.first()
        self.upload("referral_letter")
        self.upload("test_data", test_data_kind="blood")
        self.upload("consent_form")
        self.upload("relationship_proof")
        self.upload("proxy_id", proxy=proxy.pk if proxy else "")

    def fill_all(self, documents=True, relation="child", **physician):
        """Every step in the wizard's order: who applies, the privacy policy, then the rest."""
        family = relation != "self"
        for response in (
            self.applicant(relation),
            self.privacy(),
            *([self.proxies()] if family else []),
            self.patient(),
            self.consult(),
            self.sheet(),
            self.physician(**physician),
        ):
            assert response.status_code == 302, response.content.decode()[:2000]
        if documents:
            self.all_documents()

    def submit(self):
        return self.client.post(reverse("case-submit", args=[self.case.pk]))


@pytest.fixture
def wizard_for(client, demo_catalog, policy):
    def start(user, accept_privacy=True):
        """A new draft; by default the privacy policy is accepted at once (SPEC §6: nothing
        about the patient is stored before), so a test may post any step or upload."""
        client.force_login(user)
        response = client.post(reverse("case-new"))
        assert response.status_code == 302
        wizard = Wizard(client, Case.objects.filter(applicant=user).latest("pk"))
        if accept_privacy:
            assert wizard.privacy().status_code == 302
        return wizard

    return start
