"""The demo people, once: one per staff role, and the patients with what each asks the hospital.
`make run` prints their passwords. Invented names, numbers and addresses; demo mode only."""

from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from django.db import transaction

from opiniondesk.accounts.mfa import enrol_demo_factor
from opiniondesk.accounts.models import Role, User
from opiniondesk.catalog.models import Department


@dataclass(frozen=True)
class Asks:
    """A patient's own application: who they are and what they ask (the consultation sheet)."""

    kana: str  # family and given name in katakana, separated by a space
    born: date
    sex: str
    phone: str
    department: str
    disease: str
    mode: str
    diagnosis: str
    treatment: str
    questions: str


@dataclass(frozen=True)
class Persona:
    username: str
    name: tuple[str, str]  # family, given
    role: Role
    password: str
    departments: tuple[str, ...] = ()
    asks: Asks | None = None  # patients who apply for themselves (demo/cases.py, schedule.py)
    head: bool = False  # heads their departments (診療科長): sees their lead times

    @property
    def email(self) -> str:
        return f"{self.username}@demo.opiniondesk.invalid"


@dataclass(frozen=True)
class DemoLogin:
    persona: Persona
    totp_secret: str = ""  # staff only
    recovery_codes: tuple[str, ...] = ()


def _patient(username: str, name: tuple[str, str], asks: Asks | None = None) -> Persona:
    return Persona(username, name, Role.PATIENT, f"demo-{username.split('_')[1]}-2026", asks=asks)


DEMO_PERSONAS = [
    Persona("coordinator_sato", ("佐藤", "美咲"), Role.COORDINATOR, "demo-sato-2026"),
    # The head of cardiology (診療科長): sees the department's lead times.
    Persona(
        "dr_tanaka", ("田中", "健一"), Role.SPECIALIST, "demo-tanaka-2026", ("cardiology",),
        head=True,
    ),
    Persona("dr_mori", ("森", "直子"), Role.SPECIALIST, "demo-mori-2026", ("neurology",)),
    Persona("billing_ito", ("伊藤", "誠"), Role.BILLING_CLERK, "demo-ito-2026"),
    Persona("admin_kato", ("加藤", "亮"), Role.ADMIN, "demo-kato-2026"),
    _patient("patient_hana", ("山田", "花")),
    _patient("proxy_ken", ("山田", "健")),  # Hana's son
    # Applicants whose cases the hospital has moved on (demo/cases.py): one state each.
    _patient("patient_jun", ("高橋", "潤"), Asks(  # screening
        "タカハシ ジュン", date(1961, 8, 20), "male", "03-0222-3333",
        "gastroenterology", "gastric_cancer", "online",
        "早期胃がん", "内視鏡的切除を勧められている。",
        "内視鏡治療で十分でしょうか。外科手術が必要な可能性はありますか。",
    )),
    _patient("patient_emi", ("小林", "恵美"), Asks(  # documents asked for
        "コバヤシ エミ", date(1974, 2, 14), "female", "045-022-4444",
        "breast_surgery", "breast_cancer", "online",
        "左乳がん(ステージIIA)", "術前化学療法の後に手術の予定。",
        "乳房温存手術は可能でしょうか。術前化学療法は必要でしょうか。",
    )),
    _patient("patient_yoshio", ("渡辺", "義男"), Asks(  # referred
        "ワタナベ ヨシオ", date(1948, 11, 3), "male", "048-077-8888",
        "cardiology", "arrhythmia", "in_person",
        "発作性心房細動", "抗凝固薬と抗不整脈薬を内服。",
        "カテーテルアブレーションを受けるべきでしょうか。",
    )),
    _patient("patient_kazuko", ("中村", "和子"), Asks(  # accepted
        "ナカムラ カズコ", date(1956, 5, 30), "female", "043-011-2222",
        "cardiology", "valvular_disease", "online",
        "大動脈弁狭窄症", "経過観察中。息切れが増えてきた。",
        "弁置換術とカテーテル治療(TAVI)のどちらが向いていますか。",
    )),
    _patient("patient_takeshi", ("山本", "武"), Asks(  # rejected
        "ヤマモト タケシ", date(1967, 9, 12), "male", "03-0666-7777",
        "gastroenterology", "colorectal_cancer", "in_person",
        "S状結腸がん", "手術を予定している。", "こちらの病院で手術を受けられますか。",
    )),
    _patient("patient_sachiko", ("井上", "幸子"), Asks(  # declined
        "イノウエ サチコ", date(1985, 1, 25), "female", "042-088-9999",
        "neurology", "multiple_sclerosis", "in_person",
        "多発性硬化症(再発寛解型)", "疾患修飾薬の注射。妊娠を希望している。",
        "妊娠を考えたとき、薬をどう変えればよいでしょうか。",
    )),
    # Scheduling (demo/schedule.py): dates offered, booked with an ID to check, ready.
    _patient("patient_michiko", ("松本", "美智子"), Asks(  # offered
        "マツモト ミチコ", date(1952, 3, 8), "female", "03-0333-4444",
        "cardiology", "ischemic_heart_disease", "online",
        "狭心症", "冠動脈ステント留置後、抗血小板薬を内服。",
        "抗血小板薬はいつまで続ける必要がありますか。",
    )),
    _patient("patient_hiroshi", ("木村", "博"), Asks(  # booked
        "キムラ ヒロシ", date(1958, 7, 21), "male", "044-055-6666",
        "cardiology", "heart_failure", "online",
        "拡張型心筋症による慢性心不全", "薬物治療中。植込み型除細動器を勧められた。",
        "植込み型除細動器は今必要でしょうか。",
    )),
    _patient("patient_akiko", ("林", "明子"), Asks(  # ready, online
        "ハヤシ アキコ", date(1963, 12, 2), "female", "047-077-1111",
        "cardiology", "arrhythmia", "online",
        "発作性上室頻拍", "発作時に薬で対処している。",
        "カテーテルアブレーションを受けるべきでしょうか。",
    )),
    _patient("patient_masao", ("斎藤", "正夫"), Asks(  # ready, in person
        "サイトウ マサオ", date(1950, 10, 15), "male", "048-022-3333",
        "neurology", "parkinsons_disease", "in_person",
        "パーキンソン病(ヤール3度)", "レボドパを内服。薬の効く時間が短くなってきた。",
        "脳深部刺激療法(DBS)の対象になりますか。",
    )),
    # Fees (demo/billing.py): consults held in person, the fee paid at the desk or still due.
    _patient("patient_tomoko", ("清水", "智子"), Asks(  # charged: paid at the desk, receipt
        "シミズ トモコ", date(1959, 6, 18), "female", "03-0101-2020",
        "cardiology", "valvular_disease", "in_person",
        "僧帽弁閉鎖不全症", "利尿薬を内服し、経過観察中。",
        "手術の時期はいつ頃がよいでしょうか。",
    )),
    _patient("patient_shigeru", ("池田", "茂"), Asks(  # completed: the fee is due at the desk
        "イケダ シゲル", date(1946, 1, 9), "male", "03-0303-4040",
        "neurology", "parkinsons_disease", "in_person",
        "パーキンソン病(ヤール2度)", "ドパミンアゴニストを内服。",
        "今の薬を続けてよいでしょうか。",
    )),
]  # fmt: skip
PERSONAS = {persona.username: persona for persona in DEMO_PERSONAS}


@transaction.atomic
def load_users() -> list[DemoLogin]:
    logins = []
    for persona in DEMO_PERSONAS:
        user, _ = User.objects.get_or_create(username=persona.username)
        user.last_name, user.first_name = persona.name
        user.email = persona.email
        user.role = persona.role
        user.is_staff = persona.role is Role.ADMIN  # the Django admin edits the catalog
        user.is_superuser = persona.role is Role.ADMIN
        user.is_department_head = persona.head
        user.set_password(persona.password)
        user.save()
        user.departments.set(Department.objects.filter(code__in=persona.departments))
        # The demo address is the one primary address (a user may have had another).
        EmailAddress.objects.filter(user=user).exclude(email=user.email).update(primary=False)
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        if user.is_hospital_staff:
            secret, codes = enrol_demo_factor(user)
            logins.append(DemoLogin(persona, secret, tuple(codes)))
        else:
            logins.append(DemoLogin(persona))
    return logins
