"""events: what turnup tells other systems (the outbox) and what they told it (inbound).

An event is written in the same transaction as the change it tells of, so it is published
exactly when the change is committed and never for a change that was rolled back; the Faust
worker's relay sends the outbox to Kafka in order and marks what the broker acknowledged.
A consumed message is recorded once per (topic, partition, offset, timestamp): a redelivery
after a crash is recognised and not applied twice, and a rejected one keeps the reason.
"""

from __future__ import annotations

import uuid

from django.db import models


class OutboxEvent(models.Model):
    """An event to publish on ``topic``; ``published`` is set once the broker acknowledged it."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    topic = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    type = models.CharField(max_length=50)
    data = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)
    published = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # the relay's one query: the oldest unpublished events
            models.Index(
                fields=["id"],
                condition=models.Q(published__isnull=True),
                name="events_outbox_pending",
            ),
            models.Index(fields=["topic", "id"], name="events_outbox_topic"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.key} ({'published' if self.published else 'pending'})"

    def envelope(self) -> dict:
        """The message's value as other systems read it."""
        return {
            "id": str(self.event_id),
            "type": self.type,
            "time": self.created.isoformat(),
            "data": self.data,
        }


class InboundStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected"


class InboundEvent(models.Model):
    """A message consumed from another system, what it did, or why it was refused."""

    topic = models.CharField(max_length=100)
    partition = models.PositiveIntegerField()
    offset = models.PositiveBigIntegerField()
    # part of the record's identity: a topic deleted and created again starts its offsets at
    # 0, and its new messages (other timestamps) must not pass for ones already applied
    timestamp_ms = models.PositiveBigIntegerField(
        default=0,
        help_text="The record's timestamp (ms since the epoch).",
    )
    key = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(null=True, blank=True, help_text="The message, when it was JSON.")
    raw = models.TextField(blank=True, help_text="The message's text, when it was not JSON.")
    status = models.CharField(max_length=10, choices=InboundStatus.choices)
    message = models.TextField(blank=True, help_text="What it did, or why it was rejected.")
    details = models.JSONField(
        default=dict, blank=True, help_text="Why it was rejected: fields → reasons, …"
    )
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "partition", "offset", "timestamp_ms"],
                name="events_inbound_unique_record",
            )
        ]
        indexes = [models.Index(fields=["status", "-id"], name="events_inbound_status")]

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}: {self.status}"
