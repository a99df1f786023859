"""Recorded Stripe answers, served on loopback so the real SDK parses them as it would Stripe's
(status codes and bodies as Stripe sends them). Used where localstripe differs from Stripe."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Recorded:
    """Answers POST/GET in order from `answers` (the last one repeats); keeps every request."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = answers
        self.requests: list[dict[str, str]] = []
        self.url = ""

    def next_answer(self) -> tuple[int, dict[str, Any]]:
        index = min(len(self.requests) - 1, len(self.answers) - 1)
        return self.answers[index]

    def keys(self) -> list[str]:
        return [r["idempotency_key"] for r in self.requests]


@contextmanager
def recorded_stripe(answers: list[tuple[int, dict[str, Any]]]) -> Iterator[Recorded]:
    recorded = Recorded(answers)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            recorded.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "idempotency_key": self.headers.get("Idempotency-Key", ""),
                    "body": body,
                }
            )
            status, payload = recorded.next_answer()
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_recorded{len(recorded.requests)}")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()


def payment_intent(status: str, **fields: Any) -> dict[str, Any]:
    """A PaymentIntent as Stripe returns it (the fields we read, and a few around them)."""
    return {
        "id": "pi_3RecordedAbc123",
        "object": "payment_intent",
        "amount": 16500,
        "amount_received": 16500 if status == "succeeded" else 0,
        "capture_method": "automatic_async",
        "client_secret": "pi_3RecordedAbc123_secret_recorded",
        "confirmation_method": "automatic",
        "currency": "jpy",
        "customer": "cus_Recorded",
        "description": "セカンドオピニオン（自費診療）",
        "last_payment_error": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "payment_method": "pm_Recorded",
        "payment_method_types": ["card"],
        "status": status,
        **fields,
    }


def card_error(code: str, decline_code: str, message: str, intent_status: str) -> dict[str, Any]:
    """A 402 as Stripe sends it for a declined off-session payment: the PaymentIntent made is
    inside the error."""
    error = {
        "code": code,
        "decline_code": decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "type": "card_error",
    }
    intent = payment_intent(
        intent_status,
        last_payment_error={**error, "payment_method": {"id": "pm_Recorded"}},
        next_action={"type": "use_stripe_sdk"} if intent_status == "requires_action" else None,
    )
    return {
        "error": {
            **error,
            "charge": "ch_3RecordedAbc123",
            "payment_intent": intent,
            "payment_method": {"id": "pm_Recorded", "object": "payment_method"},
            "request_log_url": "https://dashboard.stripe.com/test/logs/req_recorded",
        }
    }


API_ERROR = {
    "error": {
        "message": "An unknown error occurred",
        "type": "api_error",
    }
}
IN_PROGRESS = {
    "error": {
        "message": "There is currently another in-progress request using this Idempotent Key "
        "(that probably means you submitted twice, and the other request is still going "
        "through). Please try again later.",
        "type": "idempotency_error",
    }
}
