from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opiniondesk.demo.billing import load_demo_billing
from opiniondesk.demo.cases import load_demo_cases
from opiniondesk.demo.catalog import load_catalog
from opiniondesk.demo.fees import load_fees
from opiniondesk.demo.history import load_demo_history
from opiniondesk.demo.people import load_users
from opiniondesk.demo.schedule import load_demo_schedule
from opiniondesk.demo.texts import load_consent_form, load_privacy_policy


class Command(BaseCommand):
    help = "Load the demo catalog, fee table and demo users (idempotent; DEMO_MODE only)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Leave out the year of past cases behind the lead-time page (loads faster).",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "Demo data is loaded only with DEMO_MODE=true (never in production)."
            )
        load_catalog()
        load_fees()
        load_privacy_policy()
        load_consent_form()
        logins = load_users()
        load_demo_cases()
        load_demo_schedule()
        load_demo_billing()
        if not options["no_history"]:
            load_demo_history()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Demo accounts (demo only):"))
        for login in logins:
            p = login.persona
            self.stdout.write(f"  {p.role.label:<15} {p.username:<18} password: {p.password}")
            if login.totp_secret:
                self.stdout.write(f"  {'':<15} TOTP secret: {login.totp_secret}")
                self.stdout.write(f"  {'':<15} recovery codes: {' '.join(login.recovery_codes)}")
        self.stdout.write(
            "Staff sign in with a TOTP code: add the secret to an authenticator app, or run\n"
            "  .venv/bin/python manage.py demo_totp <user>   to print the current code."
        )
