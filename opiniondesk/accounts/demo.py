"""Demo users, one per staff role, with passwords that `make run` prints. Demo mode only."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction

from opiniondesk.accounts.mfa import enrol_demo_factor
from opiniondesk.accounts.models import Role, User
from opiniondesk.catalog.models import Department


@dataclass(frozen=True)
class DemoLogin:
    persona: "Persona"
    totp_secret: str = ""  # staff only
    recovery_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Persona:
    username: str
    name: tuple[str, str]  # family, given
    role: Role
    password: str
    departments: tuple[str, ...] = ()


DEMO_PERSONAS = [
    Persona("coordinator_sato", ("佐藤", "美咲"), Role.COORDINATOR, "demo-sato-2026"),
    Persona("dr_tanaka", ("田中", "健一"), Role.SPECIALIST, "demo-tanaka-2026", ("cardiology",)),
    Persona("dr_mori", ("森", "直子"), Role.SPECIALIST, "demo-mori-2026", ("neurology",)),
    Persona("billing_ito", ("伊藤", "誠"), Role.BILLING_CLERK, "demo-ito-2026"),
    Persona("admin_kato", ("加藤", "亮"), Role.ADMIN, "demo-kato-2026"),
    Persona("patient_hana", ("山田", "花"), Role.PATIENT, "demo-hana-2026"),
    Persona("proxy_ken", ("山田", "健"), Role.PATIENT, "demo-ken-2026"),  # Hana's son
    # Applicants whose cases the hospital has moved on (cases/demo.py): one state each.
    Persona("patient_jun", ("高橋", "潤"), Role.PATIENT, "demo-jun-2026"),  # screening
    Persona("patient_emi", ("小林", "恵美"), Role.PATIENT, "demo-emi-2026"),  # documents asked
    Persona("patient_yoshio", ("渡辺", "義男"), Role.PATIENT, "demo-yoshio-2026"),  # referred
    Persona("patient_kazuko", ("中村", "和子"), Role.PATIENT, "demo-kazuko-2026"),  # accepted
    Persona("patient_takeshi", ("山本", "武"), Role.PATIENT, "demo-takeshi-2026"),  # rejected
    Persona("patient_sachiko", ("井上", "幸子"), Role.PATIENT, "demo-sachiko-2026"),  # declined
    # Scheduling (scheduling/demo.py): dates offered, booked with an ID to check, ready.
    Persona("patient_michiko", ("松本", "美智子"), Role.PATIENT, "demo-michiko-2026"),  # offered
    Persona("patient_hiroshi", ("木村", "博"), Role.PATIENT, "demo-hiroshi-2026"),  # booked
    Persona("patient_akiko", ("林", "明子"), Role.PATIENT, "demo-akiko-2026"),  # ready, online
    Persona("patient_masao", ("斎藤", "正夫"), Role.PATIENT, "demo-masao-2026"),  # ready, in person
]


@transaction.atomic
def load_users() -> list[DemoLogin]:
    logins = []
    for persona in DEMO_PERSONAS:
        user, _ = User.objects.get_or_create(username=persona.username)
        user.last_name, user.first_name = persona.name
        user.email = f"{persona.username}@demo.opiniondesk.invalid"
        user.role = persona.role
        user.is_staff = persona.role is Role.ADMIN  # the Django admin edits the catalog
        user.is_superuser = persona.role is Role.ADMIN
        user.set_password(persona.password)
        user.save()
        user.departments.set(Department.objects.filter(code__in=persona.departments))
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        if user.is_hospital_staff:
            secret, codes = enrol_demo_factor(user)
            logins.append(DemoLogin(persona, secret, tuple(codes)))
        else:
            logins.append(DemoLogin(persona))
    return logins
