"""The people of the tests, as STYLE.md names them: one of each role, and two who must not see
what is not theirs. Seeded once per test session (`seed`); a test asks for one by name."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.test.utils import override_settings

from opiniondesk.accounts.mfa import enrol_demo_factor
from opiniondesk.accounts.models import Role, User
from opiniondesk.catalog.models import Department

PASSWORD = "pw-1234567890"


@dataclass(frozen=True)
class Persona:
    username: str
    role: Role
    departments: tuple[str, ...] = ()
    name: tuple[str, str] = ("", "")  # family, given

    @property
    def email(self) -> str:
        return f"{self.username}@example.jp"


PERSONAS = (
    Persona("patient_hana", Role.PATIENT, name=("山田", "花")),
    Persona("proxy_ken", Role.PATIENT, name=("山田", "健")),  # Hana's son, applies for her
    Persona("outsider_eve", Role.PATIENT),  # must never see Hana's data
    # Staff have the demo's names (demo/people.py); patients see the specialist's.
    Persona("coordinator_sato", Role.COORDINATOR, name=("佐藤", "美咲")),
    Persona("dr_tanaka", Role.SPECIALIST, ("cardiology",), name=("田中", "健一")),
    # A second cardiologist's slots.
    Persona("dr_kato", Role.SPECIALIST, ("cardiology",), name=("加藤", "大輔")),
    # Must not see cardiology's cases.
    Persona("dr_mori", Role.SPECIALIST, ("neurology",), name=("森", "直子")),
    Persona("billing_ito", Role.BILLING_CLERK, name=("伊藤", "誠")),
    Persona("admin_kato", Role.ADMIN, name=("加藤", "亮")),  # hospital IT: no clinical data
)
USERNAMES = tuple(persona.username for persona in PERSONAS)


def make_user(
    username: str, role: Role, *departments: str, email: str = "", **fields: object
) -> User:
    """A user beyond the personas (a third coordinator, a new patient), made as they are."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        user = User.objects.create_user(
            username, email or f"{username}@example.jp", PASSWORD, role=role, **fields
        )
    if role != Role.PATIENT:
        enrol_demo_factor(user)  # staff without a second factor see no staff page
    if departments:
        user.departments.set(Department.objects.filter(code__in=departments))
    return user


def seed_personas() -> None:
    """Every persona, with a confirmed e-mail address, its second factor (staff) and departments;
    needs the catalog. The admin edits the catalog in the Django admin, as the demo's does."""
    for persona in PERSONAS:
        family, given = persona.name
        admin = persona.role is Role.ADMIN
        user = make_user(
            persona.username,
            persona.role,
            *persona.departments,
            email=persona.email,
            last_name=family,
            first_name=given,
            is_staff=admin,
            is_superuser=admin,
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


def persona(username: str) -> User:
    """The seeded persona of that name (seeded again first if a transactional test that ran
    before on this worker emptied the database)."""
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        from opiniondesk.testing.seed import ensure_seeded

        ensure_seeded()
        return User.objects.get(username=username)
