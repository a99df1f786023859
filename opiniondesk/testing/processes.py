"""The site's own processes for tests that need real ones (several servers, a server or a worker
killed with SIGKILL): an ASGI server or `manage.py` in a subprocess on the test's PostgreSQL
database, with the test run's settings that a subprocess must share."""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

from opiniondesk.testing.browser import free_port

ROOT = Path(settings.BASE_DIR)


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


def site_env(**extra: str) -> dict[str, str]:
    """The environment of a server or worker process on the test database."""
    return (
        os.environ
        | {
            "DATABASE_URL": database_url(),
            # A key fit for production (manage.py refuses the test run's), with the test run's
            # as a fallback, so that sessions the test makes (force_login) are valid there.
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECRET_KEY_FALLBACKS": settings.SECRET_KEY,
            "DEMO_MODE": "false",
            "DEBUG": "false",
            "HTTPS_ONLY": "false",
            # The static files as the `static_root` fixture collected them (no compressed copies).
            "STATIC_COMPRESS": "false",
            # The audit log's keys of this test run (a production server refuses to run without).
            "AUDIT_MAC_KEY_FILE": str(settings.AUDIT_MAC_KEY_FILE),
            "AUDIT_SIGNING_KEY_FILE": str(settings.AUDIT_SIGNING_KEY_FILE),
            "AUDIT_CHECKPOINT_DIR": str(settings.AUDIT_CHECKPOINT_DIR),
        }
        | extra
    )


def start_server(
    env: dict[str, str], app: str = "config.asgi:application"
) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn serving `app` on a free port, starting (see `wait_until_up`)."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("uvicorn")),
            app,
            "--host=127.0.0.1",
            f"--port={port}",
            "--ws=websockets-sansio",
            "--lifespan=off",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    return server, f"http://127.0.0.1:{port}"


def wait_until_up(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 90  # a loaded CI machine starts Django slowly
    while True:
        assert server.poll() is None, "the server process stopped"
        try:
            if httpx.get(f"{url}/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not start"
        time.sleep(0.2)


def manage(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`manage.py <args>` in a subprocess (not waited for)."""
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
