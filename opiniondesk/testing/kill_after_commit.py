"""The site's ASGI application in a process that kills itself (SIGKILL, as `kill -9` or a power
cut would) right after the first transaction that saved a row of the model named by
KILL_AFTER_COMMIT_OF ("app_label.Model") commits: before anything that process would do after the
commit (on_commit callbacks registered later, the response). For the kill tests only.
"""

import os
import signal

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_save

from config.asgi import application

__all__ = ["application"]


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_after_commit(**kwargs: object) -> None:
    transaction.on_commit(_die)


post_save.connect(
    _kill_after_commit, sender=apps.get_model(os.environ["KILL_AFTER_COMMIT_OF"]), weak=False
)
