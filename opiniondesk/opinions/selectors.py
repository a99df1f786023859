"""Reads of the opinion: its versions, whether it was delivered, the physician's link."""

from django.db.models import QuerySet
from django.utils import timezone

from opiniondesk.cases.models import Case
from opiniondesk.core.tokens import token_hash
from opiniondesk.opinions.errors import LinkRefused
from opiniondesk.opinions.models import (
    DeliveryMethod,
    OpinionDelivery,
    OpinionVersion,
    VersionState,
)


def versions(case: Case) -> QuerySet[OpinionVersion]:
    """Every version of the case's opinion, oldest first."""
    return OpinionVersion.objects.filter(opinion__case=case).select_related(
        "written_by", "signed_by", "corrects"
    )


def draft(case: Case) -> OpinionVersion | None:
    return versions(case).filter(state=VersionState.DRAFT).first()


def latest_signed(case: Case) -> OpinionVersion | None:
    """The signed version in force: the newest one."""
    return versions(case).filter(state=VersionState.SIGNED).order_by("-number").first()


def deliveries(case: Case) -> QuerySet[OpinionDelivery]:
    return OpinionDelivery.objects.filter(case=case).select_related("version", "created_by")


def delivered(case: Case) -> bool:
    """Whether a signed opinion of the case has reached the attending physician."""
    return OpinionDelivery.objects.filter(case=case, delivered_at__isnull=False).exists()


def delivered_version(case: Case) -> OpinionVersion | None:
    """The newest version that has reached the physician (the patient's copy is of that one)."""
    delivery = (
        OpinionDelivery.objects.filter(case=case, delivered_at__isnull=False)
        .select_related("version")
        .order_by("-version__number", "-delivered_at")
        .first()
    )
    return delivery.version if delivery else None


def link_delivery(token: str) -> OpinionDelivery:
    """The delivery behind a physician's link if it can still be opened; else `LinkRefused`."""
    delivery = (
        OpinionDelivery.objects.select_related("case", "version", "case__department")
        .filter(method=DeliveryMethod.LINK, token_hash=token_hash(token))
        .first()
    )
    if delivery is None:
        raise LinkRefused("unknown")
    link_check(delivery)
    return delivery


def link_check(delivery: OpinionDelivery) -> None:
    if delivery.revoked_at is not None:
        raise LinkRefused("revoked", delivery)
    if delivery.opened_at is not None:
        raise LinkRefused("used", delivery)
    if delivery.expires_at is not None and delivery.expires_at <= timezone.now():
        raise LinkRefused("expired", delivery)
