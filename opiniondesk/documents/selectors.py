"""Reads of documents and upload links."""

from django.utils import timezone

from opiniondesk.core.tokens import token_hash
from opiniondesk.documents.models import PhysicianUploadLink


class LinkUnusable(Exception):
    def __init__(self, why: str) -> None:  # "unknown", "expired", "used", "revoked"
        self.why = why
        super().__init__(why)


def upload_link_get(token: str) -> PhysicianUploadLink:
    """The attending physician's link behind `token`, if it can still be used."""
    link = (
        PhysicianUploadLink.objects.select_related("case")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is None:
        raise LinkUnusable("unknown")
    if link.revoked_at is not None:
        raise LinkUnusable("revoked")
    if link.used_at is not None:
        raise LinkUnusable("used")
    if link.expires_at <= timezone.now():
        raise LinkUnusable("expired")
    return link
