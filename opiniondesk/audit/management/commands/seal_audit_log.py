from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser

from opiniondesk.audit.sealer import seal


class Command(BaseCommand):
    help = (
        "Seal the committed audit events older than AUDIT_SEAL_LAG into the chain and write a "
        "signed checkpoint per batch, in the database and in AUDIT_CHECKPOINT_DIR."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lag", type=int, help="Seconds (default AUDIT_SEAL_LAG).")
        parser.add_argument("--batch", type=int, help="Events per checkpoint.")
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Also make sure the periodic sealer task is queued (once: it enqueues itself).",
        )

    def handle(self, *args: object, **options: object) -> None:
        result = seal(batch=options["batch"], lag=options["lag"])  # type: ignore[arg-type]
        self.stdout.write(
            f"Sealed {result.events} events in {len(result.checkpoints)} checkpoint(s)."
        )
        if options["schedule"]:
            from opiniondesk.audit.tasks import schedule_sealer

            queued = schedule_sealer(delay=timedelta(0))
            self.stdout.write(
                "Periodic sealer queued." if queued else "Periodic sealer already queued."
            )
