"""Benchmark: the event bus end to end — the real Faust worker (``turnup events``, a child
process) against a real Kafka-protocol broker (Tansu on loopback, memory storage).

- outbound: EVENTS events recorded in the outbox, then the worker started; it relays them.
  Reported: seconds from the worker's start to the first event published (its start-up and
  group join), then events/s until the last one is marked published; every event is read back
  from its topic to check none is missing or doubled.
- inbound: a site of ROUTERS routers (the turn-up bench's blueprint); MESSAGES
  ``inventory.hardware.delivered`` messages produced to the running worker — one per router
  (applied: the serial is recorded) and the rest naming unknown devices (rejected with the
  reason). Reported: messages/s from the first produced to the last recorded.

Prints JSON. ``BENCH_DATABASE_URL`` (a dedicated PostgreSQL database, re-created by the
caller) or an SQLite file in a temporary folder.

    .venv/bin/python bench/events.py [--events 5000] [--routers 200] [--messages 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _turnup_site import ROOT, approved_site, django_setup


def _wait(predicate, timeout: float, what: str, log: Path) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.perf_counter()
        time.sleep(0.05)
    sys.stderr.write(log.read_text(errors="replace")[-3000:])
    raise SystemExit(f"timed out waiting for {what}")


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        deliveries = [await producer.send(topic, value, key=b"bench") for value in values]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


async def _count(bootstrap: str, topic: str, expected: int) -> tuple[int, int]:
    """(messages, distinct event ids) on ``topic``."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        ids: list[str] = []
        deadline = time.monotonic() + 60
        while len(ids) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            ids += [json.loads(m.value)["id"] for records in batch.values() for m in records]
        return len(ids), len(set(ids))
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--routers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="turnup-bench-events-"))
    env = django_setup(folder, database_url=os.environ.get("BENCH_DATABASE_URL", ""))
    from turnup.dcim.models import Device
    from turnup.events import constants
    from turnup.events.localbroker import local_broker
    from turnup.events.models import InboundEvent, OutboxEvent

    site = approved_site(
        name="EVB-01", routers=args.routers, servers=math.ceil(args.routers / 16), baud=9600
    )
    OutboxEvent.objects.all().delete()  # the site's own status events
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                topic=constants.TOPIC_SITE_STATUS,
                key=f"BENCH-{n % 50}",
                type="site.status-changed",
                data={"site": f"BENCH-{n % 50}", "n": n, "status": "designed"},
            )
            for n in range(args.events)
        ]
    )
    topics = constants.INBOUND_TOPICS + constants.OUTBOUND_TOPICS
    log = folder / "events.log"
    with local_broker(log=folder / "tansu.log", topics=topics) as bootstrap:
        worker_env = {
            **os.environ,
            **env,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_SESSION_TIMEOUT_SECONDS": "2",
            "PYTHONPATH": str(ROOT),
        }
        with log.open("wb") as out:
            started = time.perf_counter()
            worker = subprocess.Popen(
                [sys.executable, "-m", "turnup.cli", "events", "--loglevel", "warn"],
                env=worker_env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            pending = OutboxEvent.objects.filter(published__isnull=True)
            first = _wait(lambda: pending.count() < args.events, 60, "a first publish", log)
            last = _wait(lambda: not pending.exists(), 600, "the outbox to drain", log)
            on_topic, distinct = asyncio.run(
                _count(bootstrap, constants.TOPIC_SITE_STATUS, args.events)
            )

            routers = list(
                Device.objects.filter(site=site, role__slug="edge").values_list("name", flat=True)
            )
            values = [
                json.dumps(
                    {
                        "site": site.name,
                        "device": routers[n] if n < len(routers) else f"absent-{n}",
                        "serial": f"BENCH{n:06d}",
                    }
                ).encode()
                for n in range(args.messages)
            ]
            produced = time.perf_counter()
            asyncio.run(_produce(bootstrap, constants.TOPIC_HARDWARE_DELIVERED, values))
            recorded = _wait(
                lambda: InboundEvent.objects.count() >= args.messages, 600, "the inbound", log
            )
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
    applied = InboundEvent.objects.filter(status="applied").count()
    relay_seconds = last - first
    result = {
        "bench": "events",
        "database": "postgresql" if env["DATABASE_URL"] else "sqlite",
        "outbound": {
            "events": args.events,
            "worker_start_to_first_publish_s": round(first - started, 2),
            "relay_seconds": round(relay_seconds, 2),
            "events_per_s": round(args.events / relay_seconds, 1) if relay_seconds else None,
            "on_topic": on_topic,
            "distinct_ids_on_topic": distinct,
        },
        "inbound": {
            "messages": args.messages,
            "applied": applied,
            "rejected": InboundEvent.objects.filter(status="rejected").count(),
            "serials_recorded": Device.objects.filter(serial__startswith="BENCH").count(),
            "seconds": round(recorded - produced, 2),
            "messages_per_s": round(args.messages / (recorded - produced), 1),
        },
    }
    print(json.dumps(result, indent=2))
    ok = on_topic == distinct == args.events and applied == min(len(routers), args.messages)
    if not ok:
        raise SystemExit("events missing, doubled, or not applied: see the JSON")


if __name__ == "__main__":
    main()
