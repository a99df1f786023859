"""A demo privacy policy, so a newcomer can send an application. A hospital writes its own."""

from datetime import date

from opiniondesk.cases.models import PrivacyPolicy

PURPOSES_JA = """ご提供いただいた個人情報(病状・検査結果などの要配慮個人情報を含みます)は、次の目的にのみ利用します。
1. セカンドオピニオンの可否の判断、日程調整、ご本人・ご家族への連絡
2. 専門医による資料の確認と意見の提供
3. 意見書(回答書)の主治医への送付(ご本人の同意に基づく提供です)
4. 料金の請求と領収書の発行
5. 法令に基づく診療記録の保存(5年以上)"""

PURPOSES_EN = """We use the personal information you give us (including sensitive information such as
your condition and test results) only to:
1. decide whether we can give a second opinion, arrange the date and contact you and your family;
2. let our specialist review the materials and give the opinion;
3. send the written opinion to your attending physician (a disclosure made with your consent);
4. charge the fee and issue the receipt;
5. keep the clinical record as the law requires (at least 5 years)."""

TEXT_JA = """当院は、個人情報の保護に関する法律、医療・介護関係事業者における個人情報の適切な取扱いのためのガイダンス
及び医療情報システムの安全管理に関するガイドラインに従い、お預かりした個人情報を適切に管理します。
ご提出いただいた資料は当院の診療記録として保存し、返却・削除いたしません。
ご本人は、当院が保有する個人情報の開示を求めることができます。お問い合わせは予約センターまで。
(これはデモ用の文面です。各病院の個人情報保護方針に置き換えてください。)"""

TEXT_EN = """The hospital manages the personal information you entrust to us in accordance with the Act on
the Protection of Personal Information and the guidelines for medical information systems.
The materials you send become part of our medical records and are not returned or deleted.
You may ask us to disclose the personal information we hold about you; please call the desk.
(This is demo text. Each hospital replaces it with its own policy.)"""


def load_privacy_policy() -> None:
    PrivacyPolicy.objects.get_or_create(
        version="demo-1",
        defaults={"effective_from": date(2026, 4, 1), "text_ja": TEXT_JA, "text_en": TEXT_EN,
                  "purposes_ja": PURPOSES_JA, "purposes_en": PURPOSES_EN},
    )
