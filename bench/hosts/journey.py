"""Through the proxy at https://10.77.0.1 only, as a patient's browser would: sign in, pages
spread over both app hosts, an upload and its downloads (whichever host serves them), a
WebSocket, a password reset mail sent by a task worker; then the audit log verified whole from
the second host. Exits non-zero at the first thing that does not hold."""

import base64
import binascii
import contextlib
import json
import os
import quopri
import re
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from opiniondesk.documents.tests import samples  # noqa: E402

HOSTS = Path(os.environ.get("HOSTS_DIR", "/tmp/opiniondesk-hosts"))
SITE = "https://10.77.0.1"
CA = str(HOSTS / "nginx" / "cert.pem")


def token(text: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)


def served_by(response: httpx.Response) -> list[str]:
    rid = response.headers["x-request-id"]
    return [h for h in ("app1", "app2") if rid in (HOSTS / h / "web.log").read_text()]


def mailed(pattern: str) -> list[str]:
    """The hosts whose task worker printed a mail with this (console backend)."""
    found = []
    for host in ("app1", "app2"):
        for block in re.split(r"\n\s*\n", (HOSTS / host / "worker.log").read_text()):
            texts = [block, quopri.decodestring(block.encode()).decode(errors="replace")]
            with contextlib.suppress(binascii.Error, ValueError):
                texts.append(base64.b64decode("".join(block.split()), validate=True).decode())
            if any(pattern in text for text in texts):
                found.append(host)
                break
    return found


def main() -> None:
    client = httpx.Client(base_url=SITE, verify=CA, timeout=60)
    login = client.get("/accounts/login/")
    signed_in = client.post(
        "/accounts/login/",
        data={"login": "patient_hana", "password": "demo-hana-2026"}
        | {"csrfmiddlewaretoken": token(login.text)},
        headers={"Origin": SITE, "Referer": SITE + "/accounts/login/"},
    )
    assert signed_in.status_code == 302, signed_in.status_code
    hosts = Counter(h for _ in range(20) for h in served_by(client.get("/dashboard/")))
    print("20 dashboards, one session, served by", dict(hosts))
    assert set(hosts) == {"app1", "app2"}

    dashboard = client.get("/dashboard/").text
    case = next(
        n
        for n in sorted(set(re.findall(r"/cases/(\d+)/", dashboard)))
        if 'type="file"' in client.get(f"/cases/{n}/documents/").text
    )
    body = samples.pdf()
    path = f"/cases/{case}/documents/"
    sent = client.post(
        path,
        headers={"Accept": "application/json", "X-CSRFToken": client.cookies["csrftoken"]}
        | {"Origin": SITE, "Referer": SITE + path},
        data={"kind": "test_data", "test_data_kind": "ct_mri", "note": "across hosts"},
        files={"file": ("scan.pdf", body, "application/pdf")},
    )
    assert sent.status_code == 200 and sent.json()["ok"], sent.text
    document = max(int(i) for i in re.findall(r"/documents/(\d+)/", client.get(path).text))
    got = [client.get(f"/documents/{document}/") for _ in range(4)]
    print("upload served by", served_by(sent), "; downloads by", [served_by(g) for g in got])
    assert all(g.status_code == 200 and g.content == body for g in got)
    spools = {
        h: [p.name for p in (HOSTS / h / "media").rglob("*") if p.is_file()]
        for h in ("app1", "app2")
    }
    assert spools == {"app1": [], "app2": []}, spools

    context = ssl.create_default_context(cafile=CA)
    cookie = {"Cookie": f"sessionid={client.cookies['sessionid']}"}
    for seq in range(4):
        with connect(
            "wss://10.77.0.1/ws/device-check/",
            ssl=context,
            origin=SITE,
            additional_headers=cookie,
            open_timeout=10,
        ) as websocket:
            websocket.send(json.dumps({"type": "ping", "seq": seq}))
            assert json.loads(websocket.recv(timeout=10)) == {"type": "pong", "seq": seq}
    print("WebSocket through the proxy: 4 pings answered")

    anonymous = httpx.Client(base_url=SITE, verify=CA, timeout=60)
    form = anonymous.get("/accounts/password/reset/")
    reset = anonymous.post(
        "/accounts/password/reset/",
        data={"email": "patient_hana@demo.opiniondesk.invalid"}
        | {"csrfmiddlewaretoken": token(form.text)},
        headers={"Origin": SITE, "Referer": SITE + "/accounts/password/reset/"},
    )
    assert reset.status_code == 302, reset.status_code
    for _ in range(120):
        if by := mailed("/accounts/password/reset/key/"):
            break
        time.sleep(0.5)
    print("reset mail sent by the task worker of", by)
    assert by

    verified = subprocess.run(
        [
            str(HOSTS / "app2" / "run"),
            ".venv/bin/python",
            "manage.py",
            "verify_audit_log",
            "--full",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    print(verified.stdout.strip())
    assert verified.returncode == 0, verified.stderr


if __name__ == "__main__":
    main()
