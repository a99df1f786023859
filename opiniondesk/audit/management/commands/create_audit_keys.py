from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opiniondesk.audit.keys import check_keys, create_keys
from opiniondesk.audit.verify import keys_match_the_log


class Command(BaseCommand):
    help = (
        "Create the audit log's MAC key and checkpoint signing key (0600) where the settings say, "
        "if missing. For the demo and development: in production keep them off the database host."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="Create nothing (outside DEBUG and DEMO_MODE); fail unless both keys can be "
            "read and are the ones the audit log was written with. bin/serve runs this: the "
            "site refuses to start without its keys.",
        )

    def handle(self, *args: object, **options: object) -> None:
        mac, signing = Path(settings.AUDIT_MAC_KEY_FILE), Path(settings.AUDIT_SIGNING_KEY_FILE)
        if not options["check_only"]:
            for path in create_keys(mac, signing):
                self.stdout.write(f"Created {path} (0600).")
        try:
            check_keys()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        if problems := keys_match_the_log():
            raise CommandError(
                " ".join(problems) + " Copy both key files from the installation's first app "
                "host (or its key escrow) instead of making new ones (docs/deploy.md, "
                '"Another app host").'
            )
        self.stdout.write(
            f"Audit keys: MAC {mac}, signing {signing}; checkpoints in "
            f"{settings.AUDIT_CHECKPOINT_DIR}."
        )
