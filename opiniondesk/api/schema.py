"""How the OpenAPI document describes the errors: every operation lists the error answers it can
give, with one shared shape (`Error`, or `ValidationError` for a 400), so that a client (and
Schemathesis in the contract tests) finds each status it may meet in the document.

The views name their own answers (a 409 with its `code`, a 404 that says what is missing); the
general ones are added here from what the operation has: a body or query parameters (400), a
body (413), authentication (401 with its challenge, 403), a path parameter or pages (404), and
a rate limit (429 with Retry-After: the public endpoints, and any view with throttles)."""

from typing import Any

from drf_spectacular.openapi import AutoSchema

from opiniondesk.api.auth import CHALLENGE
from opiniondesk.api.errors import ErrorSerializer, ValidationErrorSerializer

DESCRIPTIONS = {
    "400": "Malformed input: the fields at fault, each with its messages.",
    "401": "No credentials (neither an API token nor a signed-in session), an API token "
    "that is unknown, revoked or expired, or a session that has ended.",
    "403": "Authenticated but not allowed: the role, the token's scopes, a staff user "
    "without a second factor, or a session-authenticated write without its CSRF token.",
    "404": "No such resource, or not yours to see.",
    "413": "The body is larger than the server accepts (2.5 MB).",
    "429": "Too many requests from this address: try again after Retry-After seconds.",
}
PAGE_PAST_THE_END = "No such resource, or a page past the last one."
HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "required": True,
            "description": f"How to authenticate: `{CHALLENGE}`.",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 0},
            "required": True,
            "description": "Seconds to wait before the next request.",
        }
    },
}


class ApiAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, description in self._error_codes(operation).items():
            serializer = ValidationErrorSerializer if code == "400" else ErrorSerializer
            responses.setdefault(code, self._error_response(serializer, description))
        for code, headers in HEADERS.items():
            if code in responses:
                responses[code].setdefault("headers", {}).update(headers)
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> dict[str, str]:
        # DRF's ?format= (where a view has several renderers) answers 404 to an unknown value.
        query = [
            p["name"]
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p["name"] != "format"
        ]
        has_body = "requestBody" in operation
        authenticated = any(operation.get("security", []))
        codes = {}
        if has_body or query:
            codes["400"] = DESCRIPTIONS["400"]
        if authenticated:
            codes["401"] = DESCRIPTIONS["401"]
            codes["403"] = DESCRIPTIONS["403"]
        if "page" in query:
            codes["404"] = PAGE_PAST_THE_END
        elif "{" in self.path:
            codes["404"] = DESCRIPTIONS["404"]
        if has_body:
            codes["413"] = DESCRIPTIONS["413"]
        # The public API is limited per address (SPEC §10, issue #15); so is any throttled view.
        if not authenticated or self.view.get_throttles():
            codes["429"] = DESCRIPTIONS["429"]
        return codes

    def _error_response(self, serializer: type, description: str) -> dict[str, Any]:
        ref = self.resolve_serializer(serializer, "response").ref
        media_types = self.map_renderers("media_type")
        return {
            "description": description,
            "content": {media_type: {"schema": ref} for media_type in media_types},
        }
