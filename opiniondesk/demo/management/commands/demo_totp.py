import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opiniondesk.accounts.mfa import current_code, demo_totp_secret
from opiniondesk.accounts.models import User


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff user (DEMO_MODE only)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("username")

    def handle(self, *args: object, username: str, **options: object) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo codes exist only with DEMO_MODE=true.")
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_hospital_staff:
            raise CommandError(f"{username} is not a demo staff user.")
        now = time.time()
        code = current_code(demo_totp_secret(username), now)
        self.stdout.write(f"{code}  (valid for {30 - int(now) % 30} more seconds)")
