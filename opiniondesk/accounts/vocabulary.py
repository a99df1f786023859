"""What an API token may do: the scopes a hospital system's token is given (one place).

A token acts as one staff user, with that user's role and departments; a scope only narrows
what the token may ask for, it never adds to what the user may do."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CASES_READ = "cases:read", _("read cases, their documents, history and phone calls")
    CASES_WRITE = "cases:write", _("move cases on, record phone calls")
    SCHEDULE_READ = "schedule:read", _("read bookings and the department calendar")
    SCHEDULE_WRITE = "schedule:write", _("offer dates, book, change and cancel bookings")
    CONSULTS_READ = "consults:read", _("read the consult record")
    CHARGES_READ = "charges:read", _("read the fee, its payments, refunds and receipts")
    CHARGES_WRITE = "charges:write", _("record a fee paid at the hospital, waive, refund")
    OPINIONS_READ = "opinions:read", _("read the written opinion and its delivery")
    DISCLOSURES_READ = "disclosures:read", _("read disclosure requests and what was disclosed")
