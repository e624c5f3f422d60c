"""Writes of events: record an event with the change it tells of, mark what the relay
published, and apply an inbound message once (recording what it did or why not).

This module imports no other app: the source of truth and the engine call ``event_record``
inside their own transactions; the handlers that turn an inbound message into a call of
another app's service live in ``handlers.py`` and are passed in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from turnup.core.context import current_actor
from turnup.core.errors import ApplicationError
from turnup.events import constants
from turnup.events.models import InboundEvent, InboundStatus, OutboxEvent

log = logging.getLogger(__name__)


def event_record(*, topic: str, key: str, type: str, data: dict[str, Any]) -> OutboxEvent:
    """Put an event in the outbox. Call it inside the transaction of the change it tells
    of: it is published only if that commits. ``data`` gets ``by`` (who acted) when known."""
    if topic not in constants.OUTBOUND_TOPICS:
        raise ValueError(f"unknown outbound topic {topic!r}")
    actor = current_actor()
    if actor is not None:
        data = {**data, "by": actor.username}
    return OutboxEvent.objects.create(topic=topic, key=key, type=type, data=data)


def outbox_published(*, ids: Sequence[int]) -> int:
    """Mark the events the broker acknowledged (one UPDATE)."""
    return OutboxEvent.objects.filter(pk__in=ids, published__isnull=True).update(
        published=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )


def outbox_failed(*, ids: Sequence[int], error: str) -> int:
    """Record a failed attempt to publish these events; they stay pending (one UPDATE)."""
    return OutboxEvent.objects.filter(pk__in=ids, published__isnull=True).update(
        attempts=F("attempts") + 1, last_error=error[:2000]
    )


def events_prune(*, before: datetime) -> dict[str, int]:
    """Delete what the bus no longer needs from before ``before``: published events, and
    the records of inbound messages (their offsets were committed long ago, so they cannot
    come again). An event not yet published is kept whatever its age. Two DELETEs."""
    outbox, _ = OutboxEvent.objects.filter(published__lt=before).delete()
    inbound, _ = InboundEvent.objects.filter(received__lt=before).delete()
    if outbox or inbound:
        log.info("events: pruned %d published event(s), %d inbound record(s)", outbox, inbound)
    return {"outbox": outbox, "inbound": inbound}


def events_prune_expired(*, days: int | None = None) -> dict[str, int]:
    """``events_prune`` of what is older than ``days`` (``EVENTS_RETENTION_DAYS`` when not
    given); 0 days keeps everything."""
    days = settings.EVENTS_RETENTION_DAYS if days is None else days
    if days <= 0:
        return {"outbox": 0, "inbound": 0}
    return events_prune(before=timezone.now() - timedelta(days=days))


def inbound_decode(value: bytes | str | None) -> tuple[Any, str]:
    """``(payload, raw)``: the JSON a message holds, or None and its text when it holds none.
    NUL characters, which PostgreSQL cannot store, become U+FFFD."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    value = (value or "").replace("\x00", "\ufffd").replace("\\u0000", "\\ufffd")
    try:
        return json.loads(value), ""
    except ValueError:
        return None, value[: constants.INBOUND_KEPT_CHARS]


def inbound_apply(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | str | None,
    value: bytes | str | None,
    handle: Callable[[Any], str],
    timestamp_ms: int = 0,
) -> InboundEvent:
    """Apply one consumed message with ``handle(payload) -> what it did`` and record it,
    in one transaction: the effect and the record commit together. A message already
    recorded (redelivered after a crash: same offset, same record timestamp) returns its
    record without running ``handle`` again (a recreated topic starts its offsets again:
    its messages have other timestamps). ``handle`` refuses a message by raising
    ``ApplicationError``: it is recorded as rejected with its message and field errors, and
    the handler's writes are rolled back; so is a handler's bug (recorded as an internal
    error) or a value the database refuses. A lost database connection is raised: the
    message was not recorded, and the agent tries it again."""
    if isinstance(key, bytes):
        key = key.decode("utf-8", errors="replace")
    where = {"topic": topic, "partition": partition, "offset": offset, "timestamp_ms": timestamp_ms}
    seen = InboundEvent.objects.filter(**where).first()
    if seen is not None:
        log.info("%s[%s]@%s seen before (%s): not applied again", topic, partition, offset, seen)
        return seen
    payload, raw = inbound_decode(value)
    record = InboundEvent(**where, key=(key or "")[:200], payload=payload, raw=raw)
    try:
        with transaction.atomic():
            if payload is None:
                raise ApplicationError(
                    "The message is not JSON.", extra={"fields": {"value": ["not valid JSON"]}}
                )
            record.message = handle(payload)
            record.status = InboundStatus.APPLIED
            record.save()
            return record
    except ApplicationError as error:
        record.status, record.message = InboundStatus.REJECTED, error.message
        record.details = json.loads(json.dumps(error.extra, default=str))  # storable as is
    except (OperationalError, InterfaceError):
        raise  # the database is away, not the message's fault: the caller tries it again
    except DatabaseError as error:  # the message's content (a duplicate, a value too long)
        seen = InboundEvent.objects.filter(**where).first()
        if seen is not None:  # another consumer recorded it between our read and our write
            return seen
        record.status, record.message = InboundStatus.REJECTED, f"the database refused it: {error}"
        record.payload, record.raw = None, ascii(value)[: constants.INBOUND_KEPT_CHARS]
    except Exception as error:  # noqa: BLE001 - a handler's bug is recorded, not a lost message
        log.exception("%s[%s]@%s: the handler failed", topic, partition, offset)
        record.status = InboundStatus.REJECTED
        record.message = f"internal error: {type(error).__name__}: {error}"
    log.warning("%s[%s]@%s rejected: %s", topic, partition, offset, record.message)
    record.save()
    return record
