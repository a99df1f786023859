"""Demo texts a hospital replaces with its own: the privacy policy (個人情報保護方針) and the
request and consent form for online consults (オンライン診療の依頼・同意書). Demo mode only.

The consent form follows the MHLW guideline 「オンライン診療の適切な実施に関する指針」 (2023
revision): the patient's explicit request, the limits of an online consult, the switch to an
in-person one, connection failures, no recording without consent, privacy, a private place in
Japan and who may sit with the patient.
"""

from datetime import date

from opiniondesk.cases.models import PrivacyPolicy
from opiniondesk.readiness.models import ConsentForm

# One paragraph per line: the page shows each line break as it is.
POLICY_PURPOSES_JA = "\n".join(
    [
        "ご提供いただいた個人情報(病状・検査結果などの要配慮個人情報を含みます)は、"
        "次の目的にのみ利用します。",
        "1. セカンドオピニオンの可否の判断、日程調整、ご本人・ご家族への連絡",
        "2. 専門医による資料の確認と意見の提供",
        "3. 意見書(回答書)の主治医への送付(ご本人の同意に基づく提供です)",
        "4. 料金の請求と領収書の発行",
        "5. 法令に基づく診療記録の保存(5年以上)",
    ]
)
POLICY_PURPOSES_EN = "\n".join(
    [
        "We use the personal information you give us (including sensitive information such as "
        "your condition and test results) only to:",
        "1. decide whether we can give a second opinion, arrange the date and contact you;",
        "2. let our specialist review the materials and give the opinion;",
        "3. send the written opinion to your attending physician (with your consent);",
        "4. charge the fee and issue the receipt;",
        "5. keep the clinical record as the law requires (at least 5 years).",
    ]
)
POLICY_JA = "\n".join(
    [
        "当院は、個人情報の保護に関する法律、医療・介護関係事業者における個人情報の適切な取扱いのための"
        "ガイダンス及び医療情報システムの安全管理に関するガイドラインに従い、お預かりした個人情報を"
        "適切に管理します。",
        "ご提出いただいた資料は当院の診療記録として保存し、返却・削除いたしません。",
        "ご本人は、当院が保有する個人情報の開示を求めることができます。お問い合わせは予約センターまで。",
        "(これはデモ用の文面です。各病院の個人情報保護方針に置き換えてください。)",
    ]
)
POLICY_EN = "\n".join(
    [
        "The hospital manages the personal information you entrust to us in accordance with "
        "the Act on the Protection of Personal Information and the guidelines for medical "
        "information systems.",
        "The materials you send become part of our medical records and are not returned or "
        "deleted.",
        "You may ask us to disclose the personal information we hold about you; please call "
        "the desk.",
        "(This is demo text. Each hospital replaces it with its own policy.)",
    ]
)


def load_privacy_policy() -> None:
    PrivacyPolicy.objects.get_or_create(
        version="demo-1",
        defaults={
            "effective_from": date(2026, 4, 1),
            "text_ja": POLICY_JA,
            "text_en": POLICY_EN,
            "purposes_ja": POLICY_PURPOSES_JA,
            "purposes_en": POLICY_PURPOSES_EN,
        },
    )


# The request and consent for an online consult.

CONSENT_VERSION = "2026.1"
CONSENT_EFFECTIVE_FROM = date(2026, 4, 1)

# One paragraph per line: the page shows each line break as it is.
CONSENT_JA = "\n".join(
    [
        "オンライン診療の依頼・同意書(セカンドオピニオン外来)",
        "私(患者本人)は、当院セカンドオピニオン外来の専門医による意見を、ビデオ通話による"
        "オンライン診療で受けることを依頼します。あわせて、次のことを理解し、同意します。",
        "1. オンラインの限界: 画面越しの相談では、触診・聴診などの診察や検査ができません。"
        "お預かりした資料とお話をもとにした意見であり、対面の診察に比べて得られる情報が限られます。",
        "2. 対面への切り替え: 専門医がオンラインでは適切な意見を述べられないと判断した場合は、"
        "相談を中止し、来院による相談をご案内することがあります。",
        "3. 通信の障害: 通信状況により映像や音声が途切れたり、"
        "つながらなかったりすることがあります。"
        "その場合はもう一度つなぎ直してください。つながらないときは、当院からお電話します。",
        "4. 録画・録音の禁止: 当院と患者さんの双方がシステム上で同意した場合を除き、"
        "録画・録音・画面の撮影は行いません。患者さんの側でも行わないでください。",
        "5. 個人情報: 映像と音声は暗号化して送られ、当院のシステムの外に保存されません。"
        "個人情報は当院の個人情報保護方針に従って取り扱います。",
        "6. 参加する場所: 日本国内の、ほかの人に会話を聞かれない静かな個室から参加します。"
        "外出先・移動中・公共の場所からは参加できません。",
        "7. 同席する人: 同席できるのは、申込書に記載したご家族(3親等以内)などです。"
        "通話の始めに同席者全員をお知らせください。当院で記録します。"
        "患者さん側でつなぐ端末は1台だけです。",
        "8. 本人確認: 通話の始めに、患者さんご本人であることを確認します。",
        "9. 時間と料金: 相談は専門医の資料確認の時間を含めて最長60分で、"
        "健康保険の使えない自費診療です。料金は当院の料金表のとおりです。",
        "10. 同意の取りやめ: この同意は、相談が始まる前であればいつでも取りやめることができます。"
        "予約センターにお電話ください。",
        "(これはデモ用の文面です。各病院の同意書に置き換えてください。)",
    ]
)
CONSENT_EN = "\n".join(
    [
        "Request and consent for an online consultation (second opinion outpatient service)",
        "I, the patient, ask to receive the opinion of the hospital's specialist in an online "
        "consultation by video call. I understand and agree to the following.",
        "1. Limits of an online consultation: over a screen the specialist cannot examine me "
        "(no palpation or auscultation) and no tests are done. The opinion is based on the "
        "materials I sent and on our conversation, with less information than an examination "
        "in person.",
        "2. Switching to in person: if the specialist judges that a proper opinion cannot be "
        "given online, the consultation may be stopped and a consultation at the hospital "
        "offered instead.",
        "3. Connection problems: picture or sound may break up, or the call may not connect. "
        "In that case I will reconnect; if that fails, the hospital will phone me.",
        "4. No recording: nothing is recorded (video, audio or screenshots) unless both the "
        "hospital and I agree to it in the system first. I will not record on my side either.",
        "5. Privacy: picture and sound are encrypted and not stored outside the hospital's "
        "system. My personal information is handled under the hospital's privacy policy.",
        "6. Where I join from: a quiet, private room in Japan where others cannot overhear. "
        "Not from outside, on the move or from a public place.",
        "7. Who may sit with me: the family members named in the application (within three "
        "degrees of kinship) and the like. I will tell the hospital at the start of the call "
        "who is present, and the hospital records it. Only one device connects on my side.",
        "8. Identity: at the start of the call the hospital confirms that I am the patient.",
        "9. Time and fee: the consultation lasts at most 60 minutes including the specialist's "
        "review of the materials. It is self-pay (not covered by health insurance); the fee "
        "follows the hospital's fee table.",
        "10. Withdrawing consent: I may withdraw this consent at any time before the "
        "consultation starts, by phoning the desk.",
        "(This is demo text. Each hospital replaces it with its own form.)",
    ]
)


def load_consent_form() -> ConsentForm:
    """The demo form; loading it again changes nothing (a signed version is never rewritten)."""
    form, _created = ConsentForm.objects.get_or_create(
        version=CONSENT_VERSION,
        defaults={
            "effective_from": CONSENT_EFFECTIVE_FROM,
            "text_ja": CONSENT_JA,
            "text_en": CONSENT_EN,
        },
    )
    return form
