from django.conf import settings
from django.http import HttpRequest


def hospital(request: HttpRequest) -> dict[str, object]:
    """The hospital's name and phone desk, shown on every page that tells a user to call."""
    return {"hospital": settings.HOSPITAL}
