"""The demo catalog of SPEC §2, loaded idempotently by `manage.py load_demo`."""

from datetime import time

from django.db import transaction

from opiniondesk.catalog.models import ConsultHours, Department, Disease, ExtraDocument

MON, TUE, WED, THU, FRI = range(5)

# code, name, name_en, online, in person, [(weekday, from, until)], [(code, name, name_en)], extra
DEMO_DEPARTMENTS = [
    (
        "cardiology",
        "循環器内科",
        "Cardiology",
        True,
        True,
        [(TUE, 14, 16), (THU, 14, 16)],
        [
            ("heart_failure", "心不全", "Heart failure"),
            ("arrhythmia", "不整脈", "Arrhythmia"),
            ("valvular_disease", "弁膜症", "Valvular heart disease"),
            ("ischemic_heart_disease", "虚血性心疾患", "Ischemic heart disease"),
        ],
        [],
    ),
    (
        "gastroenterology",
        "消化器内科",
        "Gastroenterology",
        True,
        True,
        [(MON, 13, 15), (WED, 13, 15)],
        [
            ("gastric_cancer", "胃がん", "Gastric cancer"),
            ("colorectal_cancer", "大腸がん", "Colorectal cancer"),
            ("liver_cancer", "肝がん", "Liver cancer"),
            ("inflammatory_bowel_disease", "炎症性腸疾患", "Inflammatory bowel disease"),
        ],
        [],
    ),
    (
        "geriatrics",
        "老年病科",
        "Geriatrics",
        True,
        True,
        [(FRI, 10, 12)],
        [
            ("dementia", "認知症", "Dementia"),
            ("frailty", "フレイル", "Frailty"),
            ("polypharmacy", "多剤併用(ポリファーマシー)", "Polypharmacy"),
        ],
        ["MEDICATION_LIST"],
    ),
    (
        "breast_surgery",
        "乳腺・内分泌外科",
        "Breast and Endocrine Surgery",
        True,
        True,
        [(MON, 15, 17), (THU, 15, 17)],
        [
            ("breast_cancer", "乳がん", "Breast cancer"),
            ("thyroid_cancer", "甲状腺がん", "Thyroid cancer"),
        ],
        [],
    ),
    (
        "neurology",
        "脳神経内科",
        "Neurology",
        False,
        True,
        [(WED, 14, 16)],
        [
            ("parkinsons_disease", "パーキンソン病", "Parkinson's disease"),
            ("als", "筋萎縮性側索硬化症(ALS)", "Amyotrophic lateral sclerosis (ALS)"),
            ("epilepsy", "てんかん", "Epilepsy"),
            ("multiple_sclerosis", "多発性硬化症", "Multiple sclerosis"),
        ],
        [],
    ),
]


@transaction.atomic
def load_catalog() -> None:
    """Create the demo departments that are missing; never overwrite what an admin edited."""
    for position, (code, name, name_en, online, in_person, hours, diseases, extra) in enumerate(
        DEMO_DEPARTMENTS
    ):
        dept, created = Department.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "offers_online": online,
                "offers_in_person": in_person,
                "position": position,
            },
        )
        if not created:
            continue
        Disease.objects.bulk_create(
            Disease(department=dept, code=d_code, name=d_name, name_en=d_name_en, position=i)
            for i, (d_code, d_name, d_name_en) in enumerate(diseases)
        )
        ConsultHours.objects.bulk_create(
            ConsultHours(department=dept, weekday=wd, starts_at=time(start), ends_at=time(end))
            for wd, start, end in hours
        )
        ExtraDocument.objects.bulk_create(ExtraDocument(department=dept, code=c) for c in extra)
