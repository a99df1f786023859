"""What each case state means to the applicant, and what happens next (plain words)."""

from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from opiniondesk.cases.workflow import Status

STATUS_LABELS: dict[Status, Promise] = {
    Status.DRAFT: _("Not sent yet"),
    Status.SUBMITTED: _("Received"),
    Status.SCREENING: _("Being checked by our staff"),
    Status.AWAITING_DOCUMENTS: _("Waiting for documents"),
    Status.REJECTED: _("We cannot accept this application"),
    Status.REFERRED: _("With the department"),
    Status.DECLINED: _("The department cannot take this case"),
    Status.ACCEPTED: _("Accepted"),
    Status.OFFERED: _("Dates offered"),
    Status.BOOKED: _("Booked"),
    Status.READY: _("Ready for the consultation"),
    Status.IN_CONSULT: _("Consultation in progress"),
    Status.COMPLETED: _("Consultation finished"),
    Status.CHARGED: _("Paid"),
    Status.CLOSED: _("Opinion sent to the attending physician"),
    Status.WITHDRAWN: _("Withdrawn"),
    Status.CANCELLED: _("Booking cancelled"),
    Status.NO_SHOW: _("Did not attend"),
}

NEXT_STEPS: dict[Status, Promise] = {
    Status.DRAFT: _("Finish the application form and send it. Your answers are saved."),
    Status.SUBMITTED: _(
        "Our staff will check your application and phone you on a weekday. There is nothing "
        "you need to do now."
    ),
    Status.SCREENING: _("Our staff are checking your application and will phone you on a weekday."),
    Status.AWAITING_DOCUMENTS: _(
        "Some documents are still missing. Please add them; we will continue as soon as they "
        "arrive."
    ),
    Status.REJECTED: _("Please see the explanation below. You can call us with any questions."),
    Status.REFERRED: _("A specialist is reading your documents. We will contact you."),
    Status.DECLINED: _("Please see the explanation below. You can call us with any questions."),
    Status.ACCEPTED: _("We will offer you dates for the consultation soon."),
    Status.OFFERED: _("Please choose one of the offered dates."),
    Status.BOOKED: _("Please complete the preparations before the consultation."),
    Status.READY: _("All is ready. Please join five minutes before your time."),
    Status.IN_CONSULT: _("Your consultation is in progress."),
    Status.COMPLETED: _("The fee will be charged to your registered card."),
    Status.CHARGED: _("The written opinion will be sent to your attending physician."),
    Status.CLOSED: _("The opinion has been sent to your attending physician."),
    Status.WITHDRAWN: _("This application was withdrawn."),
    Status.CANCELLED: _("This booking was cancelled."),
    Status.NO_SHOW: _("Please call us if you would like to arrange another date."),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS[Status(status)])


# The hospital's short names for the states, for the staff consoles (the applicant reads the
# longer, kinder labels above).
STAFF_STATUS_LABELS: dict[Status, Promise] = {
    Status.DRAFT: _("Draft"),
    Status.SUBMITTED: _("New"),
    Status.SCREENING: _("Screening"),
    Status.AWAITING_DOCUMENTS: _("Awaiting documents"),
    Status.REJECTED: _("Rejected"),
    Status.REFERRED: _("Referred to department"),
    Status.DECLINED: _("Declined by department"),
    Status.ACCEPTED: _("Accepted by department"),
    Status.OFFERED: _("Dates offered"),
    Status.BOOKED: _("Booked"),
    Status.READY: _("Ready"),
    Status.IN_CONSULT: _("In consultation"),
    Status.COMPLETED: _("Consultation finished"),
    Status.CHARGED: _("Charged"),
    Status.CLOSED: _("Closed (opinion sent)"),
    Status.WITHDRAWN: _("Withdrawn"),
    Status.CANCELLED: _("Booking cancelled"),
    Status.NO_SHOW: _("No-show"),
}


def waited(since: datetime, now: datetime) -> str:
    """How long ago, in the coarsest useful unit: "3 days", "5 hours", "12 minutes"."""
    seconds = max(0, int((now - since).total_seconds()))
    days, hours, minutes = seconds // 86400, seconds // 3600, seconds // 60
    if days:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if hours:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


# The staff consoles' answers to a refused action (cases, scheduling and readiness pages).
STAFF_CONFLICT = _(
    "Someone else already changed this case, so your action was not applied. "
    "Here is its current state."
)
STAFF_NOT_CHANGED = _("Nothing was changed: please correct what is marked below.")
