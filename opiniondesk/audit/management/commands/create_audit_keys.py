from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from opiniondesk.audit.keys import create_keys


class Command(BaseCommand):
    help = (
        "Create the audit log's MAC key and checkpoint signing key (0600) where the settings say, "
        "if missing. For the demo and development: in production keep them off the database host."
    )

    def handle(self, *args: object, **options: object) -> None:
        mac, signing = Path(settings.AUDIT_MAC_KEY_FILE), Path(settings.AUDIT_SIGNING_KEY_FILE)
        for path in create_keys(mac, signing):
            self.stdout.write(f"Created {path} (0600).")
        self.stdout.write(
            f"Audit keys: MAC {mac}, signing {signing}; checkpoints in "
            f"{settings.AUDIT_CHECKPOINT_DIR}."
        )
