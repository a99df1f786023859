"""Background work for cases. Tasks are thin: load by id, check it still applies, act."""

from datetime import datetime, time, timedelta

from django.tasks import task
from django.utils import timezone

from opiniondesk.cases import notifications
from opiniondesk.cases.models import DocumentRequest
from opiniondesk.cases.workflow import Status
from opiniondesk.core.tasks import enqueue_with_transaction
from opiniondesk.core.time import JST

REMINDER_TIME = time(9, 0)  # JST, on the day before the due date and on the due date


def schedule_document_reminders(document_request: DocumentRequest) -> None:
    if document_request.due_date is None:
        return
    for days_before in (1, 0):
        day = document_request.due_date - timedelta(days=days_before)
        at = datetime.combine(day, REMINDER_TIME, tzinfo=JST)
        if at > timezone.now():
            enqueue_with_transaction(remind_documents, document_request.pk, run_after=at)


@task()
def remind_documents(request_id: int) -> None:
    """Sent only if the request is still open and the case still waits for documents."""
    document_request = DocumentRequest.objects.select_related("case").filter(pk=request_id).first()
    if (
        document_request is None
        or document_request.fulfilled_at is not None
        or document_request.case.status != Status.AWAITING_DOCUMENTS
        # A coordinator may resume screening without the documents and ask again later: the
        # case then waits for the newer request, and the old one's due date no longer holds.
        or DocumentRequest.objects.filter(
            case_id=document_request.case_id, pk__gt=document_request.pk
        ).exists()
    ):
        return
    notifications.document_reminder(request_id)
