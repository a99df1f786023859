"""The eligibility self-check page: plain questions, the shared rules, nothing stored."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opiniondesk.core.time import jst_today
from opiniondesk.public import views
from opiniondesk.public.tests.answers import answers

pytestmark = pytest.mark.django_db


def check(client, data):
    response = client.post("/check/", data)
    assert response.status_code == 200
    return response, response.content.decode()


def test_it_asks_the_questions_in_japanese(client, demo_catalog):
    response = client.get("/check/")
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "ご本人の子(1親等)" in html
    assert "ご本人の配偶者の父・母(姻族1親等)" in html
    assert "ご本人のいとこ(4親等)" in html
    assert "主治医は、セカンドオピニオンを受けることを了承していますか。" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'method="post"' in html


def test_it_offers_diseases_grouped_by_department(client, demo_catalog):
    html = client.get("/check/").content.decode()
    assert '<optgroup label="循環器内科">' in html
    assert '<option value="cardiology:heart_failure">心不全</option>' in html
    assert '<option value="neurology:parkinsons_disease">パーキンソン病</option>' in html


def test_it_tells_ken_he_can_apply_for_his_mother(client, demo_catalog):
    _, html = check(client, answers())
    assert "お申し込みいただけます" in html
    assert "申し訳ありません" not in html
    for code in ["REFERRAL_LETTER", "TEST_DATA", "CONSENT_FORM", "RELATIONSHIP_PROOF", "PROXY_ID"]:
        assert f'data-document="{code}"' in html
    assert 'data-document="MEDICATION_LIST"' not in html
    assert "主治医が書きます" in html  # who writes the referral letter
    assert "別居の場合は戸籍謄本" in html
    assert "プレパラートはお受けできません" in html


def test_it_keeps_the_answers_after_the_result(client, demo_catalog):
    _, html = check(client, answers())
    assert '<option value="child" selected>' in html
    assert 'name="birth_date_0" value="1950"' in html
    assert '<option value="cardiology:heart_failure" selected>' in html


def test_it_uses_the_shared_eligibility_rules(client, demo_catalog, monkeypatch):
    seen = []

    def spy(app, *, today):
        seen.append((app, today))
        return real(app, today=today)

    real = views.eligibility_verdict
    monkeypatch.setattr(views, "eligibility_verdict", spy)
    check(client, answers())
    ((app, today),) = seen
    assert today == jst_today()
    assert app.requester.relation == "child"
    assert app.department == "cardiology" and app.disease == "heart_failure"


def test_it_explains_several_refusal_reasons_kindly(client, demo_catalog):
    _, html = check(
        client,
        answers(
            patient_consent="none",
            wants_transfer="yes",
            complaint_or_litigation="yes",
            joining_from_japan="no",
            department="neurology",
            disease="neurology:epilepsy",
        ),
    )
    assert "このままでは、お申し込みをお受けできません" in html
    for code in [
        "PROXY_CONSENT_MISSING",
        "WANTS_TRANSFER",
        "COMPLAINT_OR_LITIGATION",
        "NO_SPECIALIST",
        "OVERSEAS_ONLINE",
    ]:
        assert f'data-reason="{code}"' in html
    assert "ご本人の相談同意書が必要です" in html
    assert "その旨を書面に書き添えてください" in html  # the note when the patient cannot sign
    assert "紹介状(診療情報提供書)をご依頼ください" in html  # transfer via a referral
    assert "患者相談窓口" in html  # complaints go to the patient consultation desk
    assert "対面でのセカンドオピニオンをご検討ください" in html  # instead of online from abroad
    # Neurology offers no online consult: list the departments that do.
    assert "選ばれた診療科では、「対面」でご相談いただけます。" in html
    no_specialist = html[html.index('data-reason="NO_SPECIALIST"') :]
    no_specialist = no_specialist[: no_specialist.index("</li>\n    \n")]
    for name in ["循環器内科", "消化器内科", "老年病科", "乳腺・内分泌外科"]:
        assert f"<li>{name}</li>" in no_specialist
    assert "<li>脳神経内科</li>" not in no_specialist
    assert "03-0000-1234" in no_specialist


def test_it_explains_the_other_reasons(client, demo_catalog):
    _, html = check(
        client,
        answers(
            relation="cousin",
            alive="no",
            resides_in_japan="no",
            has_japanese_insurance="no",
            attending_physician_agrees="no",
            can_provide_materials="no",
            wants_tests_or_treatment_here="yes",
            fee_or_benefit_question="yes",
            privacy_policy_accepted=None,
        ),
    )
    for code in [
        "REQUESTER_NOT_FAMILY",
        "WANTS_TESTS_OR_TREATMENT",
        "PATIENT_DECEASED",
        "FEE_OR_BENEFIT_QUESTION",
        "ATTENDING_PHYSICIAN_NOT_AGREED",
        "MATERIALS_UNAVAILABLE",
        "OVERSEAS_NO_JP_INSURANCE",
        "PRIVACY_NOT_ACCEPTED",
    ]:
        assert f'data-reason="{code}"' in html
    assert "心よりお悔やみ申し上げます" in html
    assert "3親等以内のご家族" in html


def test_it_lists_the_missing_documents_for_geriatrics(client, demo_catalog):
    _, html = check(
        client,
        answers(
            department="geriatrics",
            disease="geriatrics:dementia",
            documents=["REFERRAL_LETTER", "CONSENT_FORM"],
        ),
    )
    assert "書類がそろえば、お申し込みいただけます" in html
    assert "まだお手元にない書類が 4 点あります" in html
    assert 'class="document document-missing" data-document="MEDICATION_LIST"' in html
    assert 'class="document document-missing" data-document="TEST_DATA"' in html
    assert 'class="document document-have" data-document="REFERRAL_LETTER"' in html
    assert "お薬手帳" in html


def test_it_asks_less_of_the_patient_applying_alone(client, demo_catalog):
    _, html = check(
        client,
        answers(relation="self", patient_consent=None, documents=["REFERRAL_LETTER", "TEST_DATA"]),
    )
    assert "お申し込みいただけます" in html
    assert 'data-document="CONSENT_FORM"' not in html
    assert 'data-document="PROXY_ID"' not in html


def test_it_accepts_an_insurance_card_copy_for_a_child_patient(client, demo_catalog):
    child_birth = jst_today().replace(year=jst_today().year - 10, day=1)
    _, html = check(
        client,
        answers(
            relation="parent",
            patient_consent="none",
            birth_date_0=str(child_birth.year),
            birth_date_1=str(child_birth.month),
            birth_date_2="1",
            documents=["REFERRAL_LETTER", "TEST_DATA", "RELATIONSHIP_PROOF", "PROXY_ID"],
        ),
    )
    assert "お申し込みいただけます" in html
    assert 'data-document="CONSENT_FORM"' not in html
    assert "続柄がわかる健康保険証などの写しでかまいません" in html


def test_it_refuses_a_future_birth_date_and_keeps_the_answers(client, demo_catalog):
    tomorrow = jst_today() + timedelta(days=1)
    _, html = check(
        client,
        answers(
            birth_date_0=str(tomorrow.year),
            birth_date_1=str(tomorrow.month),
            birth_date_2=str(tomorrow.day),
        ),
    )
    assert "確認が必要な回答があります" in html
    assert "生年月日が未来の日付になっています" in html
    assert 'id="birth_date-error"' in html
    assert 'aria-describedby="birth_date-hint birth_date-error"' in html
    assert 'aria-invalid="true"' in html
    assert f'name="birth_date_0" value="{tomorrow.year}"' in html
    assert '<option value="child" selected>' in html
    assert "お申し込みいただけます" not in html


def test_it_refuses_an_impossible_date(client, demo_catalog):
    _, html = check(client, answers(birth_date_1="2", birth_date_2="30"))
    assert "この日付はありません。月と日をご確認ください。" in html


def test_it_names_each_missing_answer_next_to_its_question(client, demo_catalog):
    _, html = check(
        client, answers(relation="", alive=None, mode=None, birth_date_0="", disease="")
    )
    assert "どなたがお申し込みになるかを選んでください。" in html
    assert 'aria-describedby="relation-hint relation-error"' in html
    assert "「はい」か「いいえ」を選んでください。" in html
    assert "オンラインか対面かを選んでください。" in html
    assert "患者さんの生年月日(年・月・日)を入力してください。" in html
    assert "病気を選んでください。" in html
    assert 'href="#q-alive"' in html  # the error summary links to the question
    assert '<option value="cardiology" selected>' in html


def test_it_asks_a_proxy_about_the_patients_consent(client, demo_catalog):
    _, html = check(client, answers(patient_consent=None))
    assert "患者さんご本人の同意について選んでください。" in html


def test_it_needs_no_joining_answer_for_an_in_person_consult(client, demo_catalog):
    _, html = check(client, answers(mode="in_person", joining_from_japan=None))
    assert "お申し込みいただけます" in html


def test_it_refuses_a_disease_of_another_department(client, demo_catalog):
    _, html = check(client, answers(disease="neurology:epilepsy"))
    assert "この病気は、選んだ診療科の対象ではありません" in html


def test_it_explains_no_specialist_for_a_disease_not_listed(client, demo_catalog):
    _, html = check(client, answers(department="-", disease="-"))
    assert 'data-reason="NO_SPECIALIST"' in html
    assert "このご相談に対応できる専門の医師が、当院にいません" in html


def test_it_writes_nothing_and_is_not_cached(client, demo_catalog, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as queries:
        response, _ = check(client, answers())
    statements = [q["sql"].lstrip().split()[0].upper() for q in queries.captured_queries]
    assert set(statements) == {"SELECT"}
    assert len(statements) <= 8
    assert "no-store" in response["Cache-Control"]
    assert "sessionid" not in response.cookies
    assert "no-store" in client.get("/check/")["Cache-Control"]


def test_it_explains_the_result_in_english(english, demo_catalog):
    response = english.post("/check/", answers(wants_transfer="yes", documents=[]))
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "We are sorry: we cannot accept this application as it is" in html
    assert "A transfer is arranged by a referral" in html
    assert "Written by your attending physician" in html
    assert "Not yet" in html


def test_it_shows_english_errors(english, demo_catalog):
    response = english.post("/check/", answers(birth_date_1="2", birth_date_2="30"))
    assert "This date does not exist. Please check the month and day." in response.content.decode()


def test_it_refuses_other_methods(client, demo_catalog):
    assert client.put("/check/").status_code == 405
