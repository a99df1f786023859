import contextlib
import os

from django.apps import AppConfig
from django.conf import settings


class DocumentsConfig(AppConfig):
    name = "opiniondesk.documents"
    label = "documents"

    def ready(self) -> None:
        # Uploads are spooled in FILE_UPLOAD_TEMP_DIR (on MEDIA_ROOT's filesystem by default);
        # Django's system check refuses to start if it is missing. If it cannot be created,
        # that check says so.
        if settings.FILE_UPLOAD_TEMP_DIR:
            with contextlib.suppress(OSError):
                os.makedirs(settings.FILE_UPLOAD_TEMP_DIR, mode=0o700, exist_ok=True)
            # What interrupted uploads left behind, at every start (and every few hours by the
            # task documents.tasks.sweep_upload_spool).
            from opiniondesk.documents.uploads import remove_stale_upload_files

            with contextlib.suppress(OSError):
                remove_stale_upload_files()
