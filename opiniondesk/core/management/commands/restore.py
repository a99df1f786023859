from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opiniondesk.core.backup import BackupError, resolve_generation, restore_generation


class Command(BaseCommand):
    help = (
        "Restore a backup generation into an empty installation, then verify it: the manifest "
        "first, afterwards the audit log and every document's SHA-256."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "generation", help="A generation id in BACKUP_DIR, or a generation's directory."
        )
        parser.add_argument("--dir", help="The backup directory (default: BACKUP_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        backup_dir = Path(options["dir"] or settings.BACKUP_DIR)
        try:
            gen_dir = resolve_generation(options["generation"], backup_dir)
            report = restore_generation(gen_dir)
        except (BackupError, OSError) as exc:
            raise CommandError(f"Restore refused: {exc}") from exc
        self.stdout.write(
            f"Generation {report.generation} restored: the database, {report.documents} "
            f"document files, {report.checkpoints} audit checkpoints."
        )
        self.stdout.write(f"Audit log: {report.audit_output}")
        if report.document_problems:
            for problem in report.document_problems:
                self.stdout.write(f"Document check: {problem}")
        else:
            self.stdout.write("Documents: every file matches the SHA-256 in its row.")
        if report.unapplied_migrations:
            self.stdout.write(
                "The generation is older than this code: run `manage.py migrate` "
                f"({', '.join(report.unapplied_migrations)} not applied)."
            )
        if not report.ok:
            raise CommandError(
                "Restored, but the verification found problems (above): do not open the site "
                "before they are understood."
            )
