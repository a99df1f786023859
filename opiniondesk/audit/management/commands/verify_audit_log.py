from django.core.management.base import BaseCommand, CommandError

from opiniondesk.audit.models import AuditEvent
from opiniondesk.audit.selectors import audit_chain_first_break


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and report the first broken link."

    def handle(self, *args: object, **options: object) -> None:
        broken = audit_chain_first_break()
        if broken is not None:
            raise CommandError(
                f"Audit log chain broken at event {broken.sequence}: {broken.problem}."
            )
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {count} events verified."))
