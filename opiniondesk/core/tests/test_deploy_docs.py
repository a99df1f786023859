"""docs/deploy.md says only what is true: every environment variable it names is one the settings
read, its nginx site passes `nginx -t`, and the headers and body limit nginx sends are the app's."""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from opiniondesk.core.tests.test_deploy import documented_production_environment

DOC = settings.BASE_DIR / "docs" / "deploy.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# NAME= at the start of a line (an environment file, a shell line), $NAME / ${NAME}, and any
# word in capitals with an underscore (SECRET_KEY in prose or a unit).
ASSIGNED = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
REFERENCED = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")
CAPITALS = re.compile(r"(?<![\w.-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w*])")


def code_blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def env_reads() -> set[str]:
    """The variables config/settings.py reads: env_str/env_bool/env_int/env_list and os.environ
    directly, and the WEBRTC_* ones it passes to ice_settings_from (core/ice_rules.py)."""
    names: set[str] = set()
    read = re.compile(
        r"(?:env_str|env_bool|env_int|env_list|os\.environ\.get|environ\.get)\(\s*\"([A-Z_0-9]+)\""
    )
    for source in (
        settings.BASE_DIR / "config" / "settings.py",
        settings.BASE_DIR / "opiniondesk" / "core" / "ice_rules.py",
    ):
        names |= set(read.findall(source.read_text()))
    names |= set(
        re.findall(
            r"\"(WEBRTC_[A-Z_]+)\"",
            (settings.BASE_DIR / "opiniondesk" / "core" / "ice_rules.py").read_text(),
        )
    )
    return names


def test_the_settings_reads_are_found():
    reads = env_reads()
    assert {"SECRET_KEY", "DATABASE_URL", "LOG_FORMAT", "WEBRTC_TURN_SECRET"} <= reads
    assert "WEBRTC_ICE_SERVERS" in reads  # read to be refused, never named in the guide


def test_every_environment_variable_in_the_guide_is_read_by_the_settings():
    text = DOC.read_text()
    reads = env_reads()
    named: dict[str, str] = {}
    for _lang, block in code_blocks(text):
        for pattern in (ASSIGNED, REFERENCED):
            for name in pattern.findall(block):
                named.setdefault(name, "a code block")
        for name in CAPITALS.findall(block):
            named.setdefault(name, "a code block")
    for span in re.findall(r"`([^`\n]+)`", text):
        for name in CAPITALS.findall(span):
            named.setdefault(name, "the text")
    assert "SECRET_KEY" in named and "HEALTHZ_TASK_MAX_AGE_SECONDS" in named
    # Django settings the guide names that are no environment variable (and say so).
    settings_only = {"REQUEST_MAX_BYTES"}
    for name in settings_only:
        assert hasattr(settings, name), name
    unknown = {
        name: where
        for name, where in named.items()
        if name not in reads and name not in settings_only and name != "WEBRTC_ICE_SERVERS"
    }
    assert unknown == {}, f"named in docs/deploy.md but not read by config/settings.py: {unknown}"
    # A prefix with a star (SECURE_HSTS_*) stands for variables that are read.
    for prefix in re.findall(r"`([A-Z][A-Z0-9_]*_)\*`", text):
        assert any(name.startswith(prefix) for name in reads), prefix


def test_the_environment_file_holds_only_variables_and_the_production_ones():
    text = DOC.read_text()
    [block] = [b for lang, b in code_blocks(text) if lang == "sh" and b.startswith("SECRET_KEY=")]
    names = [line.partition("=")[0] for line in block.splitlines() if line.strip()]
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in names), names
    # Everything README's minimal production environment sets, this file sets too.
    assert set(documented_production_environment()) <= set(names)


def _nginx_site() -> str:
    [block] = [b for lang, b in code_blocks(DOC.read_text()) if lang == "nginx"]
    return block


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "so.hospital.example.jp")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("so.hospital.example.jp")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed")
def test_the_nginx_site_passes_nginx_t(tmp_path):
    cert, key = _self_signed(tmp_path)
    site = _nginx_site()
    site = site.replace("/etc/letsencrypt/live/so.hospital.example.jp/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/so.hospital.example.jp/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    site = site.replace("/var/www/acme", str(tmp_path))
    assert "/etc/" not in site and "/var/" not in site, "a path the test did not replace"
    (tmp_path / "opiniondesk.site").write_text(site)
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"events {{}}\nhttp {{\n{temp}\n    include {tmp_path}/opiniondesk.site;\n}}\n"
    )
    result = subprocess.run(
        [
            NGINX,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-g",
            f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def _production_answer() -> dict:
    """The headers Django sends on an HTTPS page, and its body limit, under the production
    environment of README (in a process of its own: the test run's settings are not that)."""
    code = """
import json, django
django.setup()
from django.conf import settings
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory
request = RequestFactory().get("/", secure=True, headers={"host": "so.hospital.example.jp"})
chain = SecurityMiddleware(XFrameOptionsMiddleware(lambda r: HttpResponse("ok")))
response = chain(request)
print(json.dumps({"headers": dict(response.headers), "max_bytes": settings.REQUEST_MAX_BYTES}))
"""
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}
    env |= documented_production_environment() | {"DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nginx_sends_the_apps_security_headers_and_body_limit():
    site = _nginx_site()
    added = dict(re.findall(r'^\s*add_header ([\w-]+) "([^"]*)" always;', site, re.MULTILINE))
    hidden = set(re.findall(r"^\s*proxy_hide_header ([\w-]+);", site, re.MULTILINE))
    django = _production_answer()
    headers = django["headers"]
    for name in (
        "Strict-Transport-Security",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
    ):
        assert added[name] == headers[name], name
        assert name in hidden, f"{name} would be sent twice"
    assert "Content-Security-Policy" not in added  # the app's, with each page's nonce
    [limit] = re.findall(r"^\s*client_max_body_size (\d+)m;", site, re.MULTILINE)
    assert int(limit) * 1024 * 1024 == django["max_bytes"]


def test_the_proxy_passes_websockets_and_the_request_id():
    site = _nginx_site()
    assert "proxy_set_header Upgrade $http_upgrade;" in site
    assert "proxy_set_header Connection $connection_upgrade;" in site
    assert "proxy_set_header X-Request-ID $request_id;" in site
    assert re.search(r"ssl_protocols TLSv1\.2 TLSv1\.3;", site)
    assert "proxy_request_buffering off;" in site  # uploads stream to the app


def test_the_units_run_commands_that_exist():
    """Every `manage.py <command>` of the guide is a command of the project or Django."""
    from django.core.management import get_commands

    commands = set(get_commands())
    used = set(re.findall(r"manage\.py ([a-z_]+)", DOC.read_text()))
    assert {"backup", "verify_audit_log", "db_worker", "seal_audit_log"} <= used
    assert used <= commands, used - commands


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def _units() -> dict[str, str]:
    units = {}
    for lang, block in code_blocks(DOC.read_text()):
        first = block.splitlines()[0]
        if lang == "ini" and first.startswith("# /etc/systemd/system/"):
            units[first.removeprefix("# /etc/systemd/system/")] = block
    return units


def test_the_guide_has_the_units_of_the_topology():
    assert set(_units()) >= {
        "opiniondesk-start.service",
        "opiniondesk-web@.service",
        "opiniondesk-worker@.service",
        "opiniondesk.target",
        "opiniondesk-backup.service",
        "opiniondesk-backup.timer",
        "opiniondesk-backup-offline.service",
        "opiniondesk-verify-audit.service",
        "opiniondesk-sweep.service",  # each app host sweeps its own spool
        "opiniondesk-sweep.timer",
    }


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_verify(tmp_path):
    """`systemd-analyze verify`: known keys only, and every command exists (the release's
    programs are this checkout's virtual environment's here)."""
    venv_bin = str(Path(sys.executable).parent) + "/"
    paths = []
    for name, unit in _units().items():
        unit = unit.replace("/srv/opiniondesk/current/.venv/bin/", venv_bin)
        # A template is verified as one of its instances.
        name = name.replace("@.", "@8001." if "web" in name else "@1.")
        (tmp_path / name).write_text(unit)
        paths.append(str(tmp_path / name))
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Units the hospital writes itself (the alert) and system ones are not part of the guide.
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "opiniondesk-alert@" not in line
    ]
    assert problems == [] and result.returncode == 0, result.stdout + result.stderr
