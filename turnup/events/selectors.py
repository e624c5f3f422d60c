"""Reads of events: what the relay sends next, and the lists the API shows."""

from __future__ import annotations

from django.db.models import QuerySet

from turnup.events.models import InboundEvent, OutboxEvent


def outbox_pending(*, limit: int) -> list[OutboxEvent]:
    """The oldest ``limit`` unpublished events, in the order they were recorded (one query)."""
    return list(OutboxEvent.objects.filter(published__isnull=True).order_by("id")[:limit])


def outbox_pending_count() -> int:
    """How many events wait to be published (one query)."""
    return OutboxEvent.objects.filter(published__isnull=True).count()


def outbox_list(*, topic: str | None = None, pending: bool | None = None) -> QuerySet[OutboxEvent]:
    """Events, newest first; only ``topic``'s, only (un)published ones when given."""
    events = OutboxEvent.objects.order_by("-id")
    if topic:
        events = events.filter(topic=topic)
    if pending is not None:
        events = events.filter(published__isnull=pending)
    return events


def inbound_list(*, topic: str | None = None, status: str | None = None) -> QuerySet[InboundEvent]:
    """Consumed messages, newest first; only ``topic``'s or ``status``'s when given."""
    events = InboundEvent.objects.order_by("-id")
    if topic:
        events = events.filter(topic=topic)
    if status:
        events = events.filter(status=status)
    return events
