"""Fixtures of the public pages' tests."""

import pytest


@pytest.fixture
def english(client):
    """Switch the client to English the way a visitor does: the language form."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client
