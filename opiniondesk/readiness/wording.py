"""Names of the ID types, one set for the patient's and the coordinator's pages."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opiniondesk.readiness.rules import IdType

# Plain names, as on the card itself.
ID_TYPE_LABELS: dict[IdType, Promise] = {
    IdType.DRIVERS_LICENCE: _("Driver's licence"),
    # The My Number Act forbids collecting the individual number, printed on the back.
    IdType.MY_NUMBER_CARD: _("My Number card (the front only)"),
    IdType.PASSPORT: _("Passport"),
    IdType.RESIDENCE_CARD: _("Residence card"),
    IdType.DISABILITY_HANDBOOK: _("Disability handbook with a photo"),
    IdType.HEALTH_INSURANCE_CARD: _("Health insurance card (or certificate of eligibility)"),
    IdType.PENSION_BOOK: _("Pension book"),
    IdType.RESIDENT_RECORD: _("Copy of the resident record (住民票)"),
    IdType.OTHER_NON_PHOTO: _("Another official document without a photo"),
}


def id_type_label(stored: str) -> str | Promise:
    """The name of a stored ID type; one that is not an IdType (bad data) as stored."""
    return ID_TYPE_LABELS.get(stored, stored or "—")
