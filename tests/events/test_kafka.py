"""The event bus end to end: the real Faust worker (``turnup events``, a child process on the
test database) against a real Kafka-protocol broker (Tansu), fed and read by aiokafka, a
client nobody here wrote. A message is applied once even when the worker is killed before
it committed its offsets; turnup's events reach the topic in order, with their ids."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import require_service
from tests.factories import dcim_console_site
from tests.helpers import ROOT, shared_database_url, stop, turnup_env
from turnup.events import constants
from turnup.events.models import InboundEvent, OutboxEvent

pytestmark = pytest.mark.slow


@pytest.fixture
def events_env(tmp_path, kafka, transactional_db):
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        require_service("POSTGRESQL")  # a child process cannot see an in-memory database
    return turnup_env(
        tmp_path,
        DATABASE_URL=shared_database_url(),
        KAFKA_BOOTSTRAP_SERVERS=kafka,
        KAFKA_SESSION_TIMEOUT_SECONDS="2",
        SECRET_KEY=settings.SECRET_KEY,
    )


def start_events_worker(env) -> subprocess.Popen:
    """``turnup events`` in a child process; its output goes to ``events.log`` in its data
    folder (a failed wait shows the end of it)."""
    log = Path(env["TURNUP_DATA_DIR"]) / "events.log"
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "turnup.cli", "events", "--loglevel", "info"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"test")
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        messages = []
        deadline = time.monotonic() + timeout
        while len(messages) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            messages += [m for records in batch.values() for m in records]
        return messages
    finally:
        await consumer.stop()


def produce(kafka, topic, *payloads) -> None:
    values = [p if isinstance(p, bytes) else json.dumps(p).encode() for p in payloads]
    asyncio.run(_produce(kafka, topic, values))


def wait_for(predicate, env, what: str, timeout: float = 40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    log = (Path(env["TURNUP_DATA_DIR"]) / "events.log").read_text(errors="replace")
    raise AssertionError(f"timed out waiting for {what}; the worker said:\n{log[-3000:]}")


def test_inbound_applied_once_across_a_killed_worker_and_outbox_published(kafka, events_env):
    from turnup.dcim.models import Device
    from turnup.dcim.services import site_transition

    site, _server, routers = dcim_console_site(routers=2)
    site_transition(site=site, to_status="designed")  # an event waits in the outbox
    delivered = constants.TOPIC_HARDWARE_DELIVERED
    produce(
        kafka,
        delivered,
        {"site": site.name, "device": "rtr1", "serial": "K-1"},
        {"site": site.name, "device": "rtr7", "serial": "K-2"},
        b"\x00 not json",
    )
    expired = _expired_event(site.name)
    worker = start_events_worker(events_env)
    try:
        records = wait_for(
            lambda: (
                list(InboundEvent.objects.order_by("offset"))
                if InboundEvent.objects.count() >= 3
                else None
            ),
            events_env,
            "the worker to apply three messages",
        )
        assert [(r.offset, r.status) for r in records] == [
            (0, "applied"),
            (1, "rejected"),
            (2, "rejected"),
        ]
        assert records[1].details == {"fields": {"device": [f"no device named 'rtr7' at {site}"]}}
        assert all(abs(r.timestamp_ms / 1000 - time.time()) < 120 for r in records)
        assert Device.objects.get(pk=routers[0].pk).serial == "K-1"
        # the worker pruned at start what is older than the retention (14 days)
        wait_for(
            lambda: not OutboxEvent.objects.filter(pk=expired.pk).exists(),
            events_env,
            "the worker to prune the expired event",
        )
        # the outbox reached the topic: the site's move to designed
        messages = asyncio.run(_consume(kafka, constants.TOPIC_SITE_STATUS, 1))
        told = [json.loads(m.value) for m in messages if m.key == site.name.encode()]
        assert [(e["data"]["previous"], e["data"]["status"]) for e in told] == [
            ("planned", "designed")
        ]
        assert told[0]["type"] == "site.status-changed" and told[0]["data"]["site_id"] == site.pk
        assert dict(messages[-1].headers)["event-id"].decode() == told[-1]["id"]
        wait_for(
            lambda: not OutboxEvent.objects.filter(published__isnull=True).exists(),
            events_env,
            "the outbox to be marked published",
        )
        # killed without a clean stop: the offsets it had not committed yet (Faust commits
        # every few seconds; usually all three here) come again to the next worker, which
        # applies none of them twice
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        produce(kafka, delivered, {"site": site.name, "device": "rtr2", "serial": "K-3"})
        worker = start_events_worker(events_env)
        wait_for(
            lambda: InboundEvent.objects.filter(offset=3).first(),
            events_env,
            "the new worker to apply the fourth message",
        )
        assert InboundEvent.objects.count() == 4
        assert Device.objects.get(pk=routers[1].pk).serial == "K-3"
        site_transition(site=site, to_status="planned")  # the new worker relays it too
        messages = asyncio.run(_consume(kafka, constants.TOPIC_SITE_STATUS, 2))
        told = [
            json.loads(m.value)["data"]["status"] for m in messages if m.key == site.name.encode()
        ]
        assert told == ["designed", "planned"], "each event once, in order"
    finally:
        stop(worker)


def _expired_event(site_name: str) -> OutboxEvent:
    event = OutboxEvent.objects.create(
        topic=constants.TOPIC_RUN_FINISHED, key=site_name, type="run.finished", data={}
    )
    OutboxEvent.objects.filter(pk=event.pk).update(published=timezone.now() - timedelta(days=15))
    return event


def test_the_leader_prunes_again_on_its_timer(kafka, events_env):
    """Beyond the prune at start: with a 1 s interval, three expired events made one after
    the other, each once the one before is gone, are all deleted. The prune at start runs
    once, so at least two of them went by the timer."""
    worker = start_events_worker({**events_env, "EVENTS_PRUNE_INTERVAL_SECONDS": "1"})
    try:
        for attempt in range(3):
            expired = _expired_event(f"PRN-0{attempt}")
            wait_for(
                lambda pk=expired.pk: not OutboxEvent.objects.filter(pk=pk).exists(),
                events_env,
                f"the worker to prune expired event {attempt + 1}",
            )
        log = (Path(events_env["TURNUP_DATA_DIR"]) / "events.log").read_text(errors="replace")
        assert log.count("events: pruned 1 published event(s)") == 3
    finally:
        stop(worker)


def test_the_worker_refuses_to_start_without_a_broker(tmp_path):
    from tests.helpers import turnup

    result = turnup("events", env=turnup_env(tmp_path, KAFKA_BOOTSTRAP_SERVERS=""))
    assert result.returncode != 0
    assert "KAFKA_BOOTSTRAP_SERVERS is empty" in result.stderr


def test_turnup_run_starts_the_worker_only_when_a_broker_is_set(settings):
    from turnup.core.management.commands.run import Command

    settings.KAFKA_BOOTSTRAP_SERVERS = []
    assert "events" not in {p.name for p in Command().extra_processes()}
    settings.KAFKA_BOOTSTRAP_SERVERS = ["127.0.0.1:9092"]
    (events,) = [p for p in Command().extra_processes() if p.name == "events"]
    assert events.argv[-2:] == ["turnup.cli", "events"] and not events.oneshot
