"""Demo request and consent form for online consults (オンライン診療の依頼・同意書).

Written after the MHLW guideline 「オンライン診療の適切な実施に関する指針」 (2023 revision): the
patient's explicit request, the limits of an online consult, the switch to an in-person one,
connection failures, no recording without consent, privacy, a private place in Japan and who may
sit with the patient. A hospital replaces it with its own text; demo mode only.
"""

from datetime import date

from opiniondesk.readiness.models import ConsentForm

VERSION = "2026.1"
EFFECTIVE_FROM = date(2026, 4, 1)

# One paragraph per line: the page shows each line break as it is.
TEXT_JA = "\n".join(
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
TEXT_EN = "\n".join(
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
        version=VERSION,
        defaults={"effective_from": EFFECTIVE_FROM, "text_ja": TEXT_JA, "text_en": TEXT_EN},
    )
    return form
