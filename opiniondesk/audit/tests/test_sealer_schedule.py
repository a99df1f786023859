"""One periodic sealer, however often the site starts: `make run` and bin/serve run
`seal_audit_log --schedule` at every start, and each run of the task queues the next."""

import io

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from opiniondesk.audit.tasks import TASK_PATH

pytestmark = pytest.mark.django_db


def waiting() -> int:
    return DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").count()


def test_starting_the_site_three_times_queues_one_sealer():
    outputs = []
    for _ in range(3):
        out = io.StringIO()
        call_command("seal_audit_log", "--schedule", stdout=out)
        outputs.append(out.getvalue())
    assert waiting() == 1
    assert "Periodic sealer queued." in outputs[0]
    assert all("already queued" in text for text in outputs[1:])


def test_each_run_queues_the_next_and_only_one(run_tasks):
    call_command("seal_audit_log", "--schedule", stdout=io.StringIO())
    call_command("seal_audit_log", "--schedule", stdout=io.StringIO())
    run_tasks()  # runs the sealer due now; it queues its successor (due later), and only one
    assert waiting() == 1
    assert DBTaskResult.objects.filter(task_path=TASK_PATH, status="SUCCESSFUL").exists()
