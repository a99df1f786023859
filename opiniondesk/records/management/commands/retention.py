"""Records kept (SPEC §11.16): list the ended cases past their retention period, and purge them
only when told (`--purge`, confirmed by `--yes` or at the prompt)."""

import getpass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opiniondesk.core.time import JST, jst_today
from opiniondesk.records.errors import RecordsError
from opiniondesk.records.selectors import endings
from opiniondesk.records.services import case_purge


class Command(BaseCommand):
    help = (
        "List the ended cases whose retention period (RECORDS_RETENTION_YEARS) is over; "
        "with --purge, delete their records and files, one audited transaction per case."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--purge", action="store_true", help="delete what is listed")
        parser.add_argument("--yes", action="store_true", help="do not ask before purging")

    def handle(self, *args: Any, **options: Any) -> None:
        years = settings.RECORDS_RETENTION_YEARS
        if years < 1:
            raise CommandError("RECORDS_RETENTION_YEARS must be at least 1")
        today = jst_today()
        ended = endings(years=years)
        due = [e for e in ended if e.purgeable(today)]
        held = [e for e in ended if today > e.kept_until and e.on_hold]
        self.stdout.write(f"Retention {years} years; today {today} (JST).")
        for ending in held:
            self.stdout.write(
                f"{ending.reference}  {ending.status}"
                f"  ended {ending.ended_at.astimezone(JST):%Y-%m-%d}"
                f"  kept until {ending.kept_until}  ON LEGAL HOLD: kept"
            )
        if not due:
            self.stdout.write("No case may be purged.")
            return
        self.stdout.write(f"{len(due)} case(s) may be purged:")
        for ending in due:
            self.stdout.write(
                f"{ending.reference}  {ending.status}"
                f"  ended {ending.ended_at.astimezone(JST):%Y-%m-%d %H:%M} JST"
                f"  kept until {ending.kept_until}"
            )
        if not options["purge"]:
            self.stdout.write("Nothing was deleted (add --purge to delete these).")
            return
        if not options["yes"] and not self._confirmed(len(due)):
            self.stdout.write("Nothing was deleted.")
            return
        by = getpass.getuser()
        purged = refused = 0
        for ending in due:
            try:
                result = case_purge(case_id=ending.case_id, years=years, today=today, by=by)
            except RecordsError as exc:  # put on hold, or changed, since the listing
                refused += 1
                self.stderr.write(f"{ending.reference}: kept — {exc.message}")
                continue
            purged += 1
            rows = sum(result.rows.values())
            self.stdout.write(
                f"{result.reference}: purged {rows} rows and {len(result.files)} files"
            )
        self.stdout.write(f"Purged {purged} case(s); {refused} kept.")

    def _confirmed(self, count: int) -> bool:
        answer = input(f"Delete the records of these {count} case(s) for good? Type 'yes': ")
        return answer.strip().lower() == "yes"
