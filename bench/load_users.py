"""The simulated people of bench/load.py, for locust (run by bench/load.py, not by hand).

Each user takes one account of the plan that bench/load.py prepared (LOAD_PLAN, a JSON file):
its session cookie, its case, its slots or its consult. Every request is recorded, with its
moment, kind, time and outcome, into LOAD_RECORDS (JSON lines) when the run stops; bench/load.py
computes the figures from those, so that the errors of each outage can be counted apart.

Only 127.0.0.1 is contacted. The server's certificate is checked against LOAD_CA (make
run-scaled's own), or the site is plain HTTP (make run).
"""

import json
import os
import random
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import websocket
from locust import HttpUser, between, events, task

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.browser_resend import RESENT, resend_like_a_browser  # noqa: E402

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))
CA = os.environ.get("LOAD_CA") or None
RECORDS: list[str] = []
FILES = {int(size): Path(path).read_bytes() for size, path in PLAN["files"].items()}
PEOPLE = {kind: iter(accounts) for kind, accounts in PLAN["accounts"].items()}
STAFF_CASES = PLAN["staff_cases"]


@events.request.add_listener
def record(request_type: str, name: str, response_time: float, exception: Any, **kw: Any) -> None:
    response = kw.get("response")
    status = getattr(response, "status_code", 0) if response is not None else 0
    RECORDS.append(
        json.dumps(
            {
                "at": time.time(),
                "kind": name,
                "ms": round(response_time, 2),
                "ok": exception is None,
                "status": status,
                "error": "" if exception is None else str(exception)[:200],
            }
        )
    )


@events.test_stop.add_listener
def write_records(**kw: Any) -> None:
    with open(os.environ["LOAD_RECORDS"], "w", encoding="utf-8") as f:
        f.write("\n".join(RECORDS) + "\n")
        # Requests sent again on a new connection (bench/browser_resend.py), apart.
        f.writelines(json.dumps(r | {"resent": True}) + "\n" for r in RESENT)


class Person(HttpUser):
    abstract = True
    kind = ""
    wait_time = between(3, 8)

    def connect(self) -> None:
        """The client as a browser: it resends on a reset kept-alive connection, and trusts
        make run-scaled's own certificate."""
        resend_like_a_browser(self.client)
        if CA:
            self.client.verify = CA

    def on_start(self) -> None:
        self.connect()
        self.account = next(PEOPLE[self.kind])
        self.client.cookies.set(PLAN["session_cookie"], self.account["session"])

    def page(self, path: str, name: str, expect: int = 200) -> Any:
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False) as r:
            if r.status_code != expect:
                # A request that got no answer says why (r.error: the connection's error).
                r.failure(f"{r.status_code} for {path}" + (f": {r.error!r}" if r.error else ""))
            return r

    def csrf(self) -> str:
        return str(self.client.cookies.get(PLAN["csrf_cookie"], ""))

    def post(self, path: str, name: str, referer: str, **kw: Any) -> Any:
        headers = {"X-CSRFToken": self.csrf(), "Referer": self.host + referer} | kw.pop(
            "headers", {}
        )
        return self.client.post(
            path,
            name=name,
            headers=headers,
            catch_response=True,
            allow_redirects=False,
            **kw,
        )


class Visitor(Person):
    """Someone reading the public pages before applying (no account)."""

    kind = "visitor"
    fixed_count = PLAN["counts"]["visitor"]
    abstract = not PLAN["counts"]["visitor"]  # none of them in this run

    def on_start(self) -> None:
        self.connect()  # and no account

    @task(3)
    def home(self) -> None:
        self.page("/", "public page")

    @task(1)
    def fees(self) -> None:
        self.page("/fees/", "public page")

    @task(1)
    def departments(self) -> None:
        self.page("/departments/", "public page")


class Patient(Person):
    """A patient (or family member) who comes back to look at the case."""

    kind = "patient"
    fixed_count = PLAN["counts"]["patient"]
    abstract = not PLAN["counts"]["patient"]  # none of them in this run

    @task(2)
    def dashboard(self) -> None:
        self.page("/dashboard/", "patient dashboard")

    @task(3)
    def case(self) -> None:
        self.page(f"/cases/{self.account['case']}/", "patient case page")


class Uploader(Person):
    """An applicant sending the referral letter's test data: scans and images of 5-50 MB."""

    kind = "uploader"
    fixed_count = PLAN["counts"]["uploader"]
    abstract = not PLAN["counts"]["uploader"]  # none of them in this run
    wait_time = between(15, 30)

    @task
    def upload(self) -> None:
        path = f"/cases/{self.account['case']}/documents/"
        self.page(path, "documents page")
        size = random.choice(sorted(FILES))
        note = f"load {self.account['case']} {time.time():.6f}"
        started = time.perf_counter()
        with self.post(
            path,
            "upload 5-50 MB",
            path,
            headers={"Accept": "application/json"},
            data={"kind": "test_data", "test_data_kind": "ct_mri", "note": note},
            files={"file": (f"scan-{size}.pdf", FILES[size], "application/pdf")},
        ) as r:
            seconds = time.perf_counter() - started
            ok = r.status_code == 200 and r.json().get("ok") is True
            if not ok:
                r.failure(f"{r.status_code} {r.text[:200]}")
            UPLOADS.append(
                {
                    "case": self.account["case"],
                    "size": size,
                    "note": note,
                    "stored": ok,
                    "seconds": seconds,
                }
            )


UPLOADS: list[dict[str, Any]] = []


@events.test_stop.add_listener
def write_uploads(**kw: Any) -> None:
    with open(os.environ["LOAD_UPLOADS"], "w", encoding="utf-8") as f:
        json.dump(UPLOADS, f)


class Booker(Person):
    """A patient booking one of the offered dates: a double click, two POSTs at once."""

    kind = "booker"
    fixed_count = PLAN["counts"]["booker"]
    abstract = not PLAN["counts"]["booker"]  # none of them in this run

    def on_start(self) -> None:
        super().on_start()
        self.booked = False

    @task
    def book(self) -> None:
        path = f"/cases/{self.account['case']}/"
        self.page(path, "patient case page")
        if self.booked:
            return
        slot = random.choice(self.account["slots"])
        data = {"csrfmiddlewaretoken": self.csrf(), "slot": str(slot)}
        clicks = [
            gevent.spawn(self.post, f"{path}book/", "book a date", path, data=data)
            for _ in range(2)
        ]
        gevent.joinall(clicks)
        for click in clicks:
            with click.value as r:
                if r.status_code != 302:
                    r.failure(f"{r.status_code}")
        self.booked = True


class Waiting(Person):
    """A patient in the waiting room before the consult: the room page, a join token, the
    WebSocket (hello, then the room's state), kept open a while, as room.js does."""

    kind = "waiting"
    fixed_count = PLAN["counts"]["waiting"]
    abstract = not PLAN["counts"]["waiting"]  # none of them in this run
    wait_time = between(5, 15)

    @task
    def wait_in_room(self) -> None:
        self.page(f"/cases/{self.account['case']}/consult/", "waiting room page")
        consult = self.account["consult"]
        r = self.page(f"/consults/{consult}/token/", "room token")
        if r.status_code != 200:
            return
        token = r.json()["token"]
        url = self.host.replace("http", "ws", 1) + f"/ws/consults/{consult}/?token={token}"
        started, exception, ws = time.perf_counter(), None, None
        try:
            ws = websocket.create_connection(
                url,
                timeout=10,
                origin=self.host,
                cookie=f"{PLAN['session_cookie']}={self.account['session']}",
                sslopt={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": CA} if CA else None,
            )
            ws.send(json.dumps({"type": "hello", "device": f"load-device-{consult:08d}"}))
            while json.loads(ws.recv()).get("type") != "state":
                pass
        except Exception as exc:
            exception = exc
        events.request.fire(
            request_type="WS",
            name="room join (WebSocket)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exception,
            context={},
        )
        if ws is None or exception is not None:
            return
        try:
            for _ in range(random.randint(2, 4)):  # room.js pings every 10 s
                gevent.sleep(10)
                ws.send(json.dumps({"type": "ping"}))
        except Exception:
            pass
        finally:
            ws.close()


class Coordinator(Person):
    """A coordinator working through the queue, its filters, cases and the API."""

    kind = "coordinator"
    fixed_count = PLAN["counts"]["coordinator"]
    abstract = not PLAN["counts"]["coordinator"]  # none of them in this run
    wait_time = between(2, 6)

    @task(3)
    def queue(self) -> None:
        self.page("/staff/queue/", "staff queue")

    @task(2)
    def queue_filtered(self) -> None:
        status = random.choice(["submitted", "screening", "referred", "offered", "ready"])
        self.page(f"/staff/queue/?state={status}", "staff queue")

    @task(3)
    def case(self) -> None:
        self.page(f"/staff/cases/{random.choice(STAFF_CASES)}/", "staff case page")

    @task(2)
    def api(self) -> None:
        self.page("/api/v1/cases", "case API list")


class Specialist(Person):
    """A specialist looking at today's consults and the referred cases."""

    kind = "specialist"
    fixed_count = PLAN["counts"]["specialist"]
    abstract = not PLAN["counts"]["specialist"]  # none of them in this run
    wait_time = between(2, 6)

    @task(2)
    def home(self) -> None:
        self.page("/staff/", "staff home")

    @task(2)
    def queue(self) -> None:
        self.page("/staff/queue/", "staff queue")

    @task(1)
    def case(self) -> None:
        self.page(f"/staff/cases/{random.choice(PLAN['specialist_cases'])}/", "staff case page")
