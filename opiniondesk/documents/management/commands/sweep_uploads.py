from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opiniondesk.documents.tasks import schedule_sweep
from opiniondesk.documents.uploads import remove_stale_upload_files


class Command(BaseCommand):
    help = (
        "Remove spooled upload files older than UPLOAD_TEMP_MAX_AGE_HOURS; with --schedule, also "
        "make sure the periodic sweep is queued (bin/serve runs this at start)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schedule", action="store_true", help="Queue the periodic sweep.")

    def handle(self, *args: Any, **options: Any) -> None:
        removed = remove_stale_upload_files()
        self.stdout.write(f"Stale upload files removed: {removed}.")
        if options["schedule"]:
            queued = schedule_sweep()
            self.stdout.write(
                "Periodic sweep queued." if queued else "Periodic sweep already queued."
            )
