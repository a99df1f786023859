"""Fixtures of the steps before the consult: the scheduling personas and cases, the consent text
in force, and ID images uploaded through the real service."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opiniondesk.documents.tests import samples
from opiniondesk.readiness.models import ConsentForm
from opiniondesk.readiness.services import id_document_add
from opiniondesk.scheduling.tests import factories
from opiniondesk.scheduling.tests.conftest import accepted  # noqa: F401 (a fixture)

CONSENT_JA = "オンライン診療によるセカンドオピニオンを依頼し、その実施に同意します。"
CONSENT_EN = "I ask for a second opinion by online consult and consent to it."


@pytest.fixture
def consent_form(db):
    """The text in force since April 2026, and the one it replaced."""
    ConsentForm.objects.create(
        version="2025-04", effective_from=date(2025, 4, 1), text_ja="旧版", text_en="old"
    )
    return ConsentForm.objects.create(
        version="2026-04", effective_from=date(2026, 4, 1), text_ja=CONSENT_JA, text_en=CONSENT_EN
    )


@pytest.fixture
def upload_id():
    """The patient's side uploads an image of an ID of the given type."""

    def upload(case, actor, id_type="passport"):
        image = SimpleUploadedFile("id.jpg", samples.image("JPEG"), content_type="image/jpeg")
        return id_document_add(case_id=case.pk, actor=actor, uploaded=image, id_type=id_type)

    return upload


@pytest.fixture
def proxy_case(proxy_ken, coordinator_sato, dr_tanaka):
    """Ken's online application for his mother Hana, accepted; her account is not linked yet."""
    return factories.proxy_case(proxy_ken, None, coordinator=coordinator_sato, specialist=dr_tanaka)
