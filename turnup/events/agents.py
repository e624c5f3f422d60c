"""The Faust worker (``turnup events``): it consumes other systems' topics and relays the
outbox to Kafka. Agents only translate: a message becomes a call of
``services.inbound_apply`` with the topic's handler; an outbox row becomes a message.

Delivery is at least once both ways. Inbound, the offset is committed after the message is
applied and recorded, and a redelivered offset is recognised by its record. Outbound, an
event is marked published after the broker acknowledged it; a crash in between sends it
again, so consumers drop an event whose ``id`` they have seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "turnup.settings")
django.setup()

import faust  # noqa: E402 - Django is set up first: the handlers import models
from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import close_old_connections  # noqa: E402

from turnup.events import constants, selectors, services  # noqa: E402
from turnup.events.handlers import HANDLERS  # noqa: E402
from turnup.events.models import OutboxEvent  # noqa: E402

log = logging.getLogger(__name__)

app = faust.App(
    "turnup",
    broker=[f"kafka://{host}" for host in settings.KAFKA_BOOTSTRAP_SERVERS] or "kafka://",
    store="memory://",
    datadir=str(settings.DATA_DIR / "faust"),
    autodiscover=False,
    web_enabled=False,
    # a message that arrived before the worker first joined is read, not skipped
    consumer_auto_offset_reset="earliest",
    # the topics Faust creates for itself (turnup uses no tables: none in practice)
    topic_partitions=1,
    broker_session_timeout=settings.KAFKA_SESSION_TIMEOUT_SECONDS,
    producer_max_batch_size=1,  # see README "Events": some Kafka-protocol brokers need it
)

_inbound = app.topic(*constants.INBOUND_TOPICS, key_serializer="raw", value_serializer="raw")
_outbound = {
    name: app.topic(name, key_serializer="raw", value_serializer="raw")
    for name in constants.OUTBOUND_TOPICS
}


def _db(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``function`` run in Django's thread for synchronous code, on a live connection."""

    def fresh(*args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(fresh, thread_sensitive=True)


def _apply(topic: str, partition: int, offset: int, timestamp_ms: int, key: Any, value: Any) -> str:
    record = services.inbound_apply(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp_ms=timestamp_ms,
        key=key,
        value=value,
        handle=HANDLERS[topic],
    )
    return f"{record}: {record.message}"


@app.agent(_inbound)
async def inbound(stream) -> None:
    """Apply each message of the inbound topics, in order, once."""
    async for event in stream.events():
        message = event.message
        where = (message.topic, message.partition, message.offset)
        timestamp_ms = round((message.timestamp or 0) * 1000)
        while True:  # the database is away: keep the message until it can be recorded
            try:
                outcome = await _db(_apply)(*where, timestamp_ms, message.key, message.value)
                break
            except Exception:  # noqa: BLE001 - an exception out of the loop loses the message
                log.exception("inbound %s[%s]@%s not recorded; again in a moment", *where)
                await asyncio.sleep(constants.INBOUND_RETRY_SECONDS)
        log.info("inbound %s", outcome)


async def _send(event: OutboxEvent) -> Awaitable[Any]:
    """Hand ``event`` to the producer; returns what resolves when the broker acknowledged."""
    return await _outbound[event.topic].send(
        key=event.key.encode(),
        value=json.dumps(event.envelope()).encode(),
        headers=[("event-id", str(event.event_id).encode()), ("event-type", event.type.encode())],
    )


async def outbox_drain(
    send: Callable[[OutboxEvent], Awaitable[Awaitable[Any]]] = _send,
    *,
    batch: int = constants.OUTBOX_BATCH,
) -> int:
    """Publish the pending events, oldest first, ``batch`` at a time: hand a batch to the
    producer, wait for the broker's acknowledgements, mark the acknowledged ones published
    (up to the first that failed; it and the ones after it stay pending, with the error).
    Two queries a batch whatever its size. Returns how many were published."""
    published = 0
    while True:
        events = await _db(selectors.outbox_pending)(limit=batch)
        if not events:
            return published
        try:
            deliveries = [await send(event) for event in events]
            results = await asyncio.gather(*deliveries, return_exceptions=True)
        except Exception as error:  # noqa: BLE001 - the producer refused: retry next round
            results = [error] * len(events)
        failed = next((i for i, r in enumerate(results) if isinstance(r, BaseException)), None)
        done = events if failed is None else events[:failed]
        if done:
            await _db(services.outbox_published)(ids=[event.pk for event in done])
            published += len(done)
        if failed is not None:
            error = results[failed]
            await _db(services.outbox_failed)(
                ids=[event.pk for event in events[failed:]],
                error=f"{type(error).__name__}: {error}",
            )
            log.warning("outbox: %d event(s) not published: %s", len(events) - failed, error)
            return published


@app.timer(interval=constants.OUTBOX_POLL_SECONDS, on_leader=True)
async def outbox_relay() -> None:
    """Every second, on one worker of the group (the leader), publish what is pending."""
    try:
        published = await outbox_drain()
    except Exception:  # noqa: BLE001 - an exception out of a timer stops the whole worker
        log.exception("outbox: not relayed (database away?); again in a moment")
        return
    if published:
        log.info("outbox: %d event(s) published", published)


async def _prune() -> None:
    try:
        await _db(services.events_prune_expired)()
    except Exception:  # noqa: BLE001 - an exception out of a timer stops the whole worker
        log.exception("events: not pruned (database away?); again in an hour")


@app.task
async def events_prune_at_start() -> None:
    """Once when the worker starts (a worker restarted more often than hourly prunes too;
    two workers deleting the same rows is harmless)."""
    await _prune()


@app.timer(interval=settings.EVENTS_PRUNE_INTERVAL_SECONDS, on_leader=True)
async def events_prune() -> None:
    """Every ``EVENTS_PRUNE_INTERVAL_SECONDS`` (an hour), on the leader: delete published
    events and inbound records older than ``EVENTS_RETENTION_DAYS``."""
    await _prune()
