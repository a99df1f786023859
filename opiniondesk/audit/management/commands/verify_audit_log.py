from django.core.management.base import BaseCommand, CommandError, CommandParser

from opiniondesk.audit.verify import accept_restore, verify


class Command(BaseCommand):
    help = (
        "Verify the audit log: every event's MAC, the chain, every checkpoint's signature and "
        "the database's checkpoints against the external directory. Names the first event at "
        "fault. Incremental from the last verified checkpoint unless --full."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="Verify every event.")
        parser.add_argument(
            "--accept-restore",
            action="store_true",
            help="The database was restored from a backup on purpose: record it (signed), so "
            "that the later external checkpoints no longer count.",
        )

    def handle(self, *args: object, **options: object) -> None:
        report = verify(full=bool(options["full"] or options["accept_restore"]))
        for note in report.notes:
            self.stdout.write(f"Note: {note}.")
        if options["accept_restore"] and report.only_rolled_back:
            record = accept_restore(report)
            self.stdout.write(
                self.style.WARNING(
                    f"Restore acknowledged: {report.faults[0].problem}. "
                    f"Recorded as checkpoint {record.number}."
                )
            )
            report = verify(full=True)
        if not report.intact:
            first = report.faults[0]
            more = len(report.faults) - 1
            raise CommandError(
                f"Audit log broken at {first}."
                + (
                    f" {more} more fault(s): " + "; ".join(map(str, report.faults[1:]))
                    if more
                    else ""
                )
            )
        scope = (
            f" from checkpoint {report.started_at_checkpoint}"
            if report.started_at_checkpoint
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit log intact: {report.events} events verified{scope} "
                f"({report.sealed} sealed, {report.unsealed} not yet sealed, "
                f"{report.checkpoints} checkpoints)."
            )
        )
