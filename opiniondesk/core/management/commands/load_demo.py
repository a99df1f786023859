from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opiniondesk.accounts.demo import load_users
from opiniondesk.billing.demo import load_fees
from opiniondesk.catalog.demo import load_catalog


class Command(BaseCommand):
    help = "Load the demo catalog, fee table and demo users (idempotent; DEMO_MODE only)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "Demo data is loaded only with DEMO_MODE=true (never in production)."
            )
        load_catalog()
        load_fees()
        personas = load_users()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Demo accounts (demo only):"))
        for p in personas:
            self.stdout.write(f"  {p.role.label:<15} {p.username:<18} password: {p.password}")
