"""The proxy host of the drill: docs/deploy.md's nginx site as written, with the drill's
addresses (the app hosts 10.77.0.11 and .12, itself 10.77.0.1) and a self-signed certificate for
10.77.0.1 (no OCSP stapling for that)."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NGINX = Path(os.environ.get("HOSTS_DIR", "/tmp/opiniondesk-hosts")) / "nginx"


def site() -> str:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    text = next(b for b in re.findall(r"```nginx\n(.*?)```", doc, re.S) if "upstream" in b)
    text = re.sub(r"    server 10\.0\.1\.11:800\d[^\n]*\n", "", text)
    upstreams = "".join(
        f"server 10.77.0.{n}:8001 max_fails=3 fail_timeout=10s;\n    " for n in (11, 12)
    )
    text = text.replace("keepalive 32;", upstreams + "keepalive 32;")
    text = text.replace("so.hospital.example.jp", "10.77.0.1")
    text = text.replace("listen 80;", "listen 10.77.0.1:80;")
    text = text.replace("listen 443 ssl http2;", "listen 10.77.0.1:443 ssl http2;")
    text = re.sub(r"    listen \[::\][^\n]*\n", "", text)
    text = re.sub(r"    ssl_stapling[^\n]*\n", "", text)
    text = text.replace("/etc/letsencrypt/live/10.77.0.1/fullchain.pem", str(NGINX / "cert.pem"))
    text = text.replace("/etc/letsencrypt/live/10.77.0.1/privkey.pem", str(NGINX / "key.pem"))
    return text.replace("/var/log/nginx/", f"{NGINX}/")


def main() -> None:
    NGINX.mkdir(parents=True, exist_ok=True)
    (NGINX / "site.conf").write_text(site())
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=10.77.0.1", "-addext", "subjectAltName=IP:10.77.0.1"),
            *("-keyout", str(NGINX / "key.pem"), "-out", str(NGINX / "cert.pem")),
        ],
        check=True,
        capture_output=True,
    )
    temp = NGINX / "temp"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (temp / sub).mkdir(parents=True, exist_ok=True)
    (NGINX / "nginx.conf").write_text(
        f"""user root;
worker_processes 1;
pid {NGINX}/nginx.pid;
error_log {NGINX}/error.log;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    include {NGINX}/site.conf;
}}
"""
    )
    subprocess.run(
        ["nginx", "-t", "-q", "-p", str(NGINX), "-c", str(NGINX / "nginx.conf")], check=True
    )
    subprocess.run(["nginx", "-p", str(NGINX), "-c", str(NGINX / "nginx.conf")], check=True)
    print("proxy up: https://10.77.0.1")


if __name__ == "__main__":
    main()
