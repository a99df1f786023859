"""What we call a person in a mail: the name they gave us, never a user name (a patient who
signed up with an e-mail address has a generated one they never chose)."""

from django.db.models import Q

from opiniondesk.accounts.models import User
from opiniondesk.cases.models import Case


def person_name(user: User | None) -> str:
    """The account's own name if it has one (staff, paper applicants), else the name their most
    recent application gives them; empty when we know none."""
    if user is None or user.pk is None:
        return ""
    if user.get_full_name():
        return user.get_full_name()
    for case in Case.objects.filter(Q(applicant=user) | Q(patient_account=user)).order_by(
        "-updated_at", "-pk"
    ):
        if name := case.name_of(user.pk):
            return name
    return ""
