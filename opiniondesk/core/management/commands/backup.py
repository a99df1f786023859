from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opiniondesk.core.backup import (
    BackupError,
    copy_offline,
    create_generation,
    generations,
    rotate,
)


class Command(BaseCommand):
    help = (
        "Write one backup generation (database, documents, audit checkpoints, manifest) into "
        "BACKUP_DIR and keep the newest BACKUP_KEEP; --offline DIR copies it to another target."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", help="The backup directory (default: BACKUP_DIR).")
        parser.add_argument(
            "--keep", type=int, help="Complete generations to keep (default: BACKUP_KEEP)."
        )
        parser.add_argument(
            "--offline",
            metavar="DIR",
            help="Also copy the new generation to DIR (a mounted disk), verified.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backup_dir = Path(options["dir"] or settings.BACKUP_DIR)
        keep = options["keep"] if options["keep"] is not None else settings.BACKUP_KEEP
        try:
            if keep < 1:
                raise BackupError("--keep must be at least 1.")
            generation = create_generation(backup_dir)
            manifest = generation.manifest
            documents = manifest["documents"].get("files", manifest["documents"]["storage"])
            self.stdout.write(
                f"Generation {generation.id} written to {generation.path}: "
                f"{len(manifest['files'])} files, database {manifest['database']['file']}, "
                f"documents {documents}, "
                f"audit checkpoints {manifest['audit']['checkpoints']}."
            )
            if options["offline"]:
                copy = copy_offline(generation, Path(options["offline"]))
                self.stdout.write(f"Offline copy written and verified: {copy.path}")
            for removed in rotate(backup_dir, keep):
                self.stdout.write(f"Removed the old generation {removed}.")
        except (BackupError, OSError) as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        _complete, incomplete = generations(backup_dir)
        for path in incomplete:
            self.stderr.write(
                f"Incomplete generation (no manifest, a backup that died or is running): {path}"
            )
