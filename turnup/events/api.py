"""REST API of events: what turnup published (or will, once a broker is set) and what it
consumed — read-only.

GET /api/events/outbox/?topic=&pending=true|false   newest first
GET /api/events/inbound/?topic=&status=applied|rejected
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import SimpleRouter

from turnup.core.errors import ApplicationError
from turnup.events import selectors
from turnup.events.models import InboundEvent, InboundStatus, OutboxEvent

BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class OutboxEventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="event_id", read_only=True)

    class Meta:
        model = OutboxEvent
        fields = [
            "id",
            "topic",
            "key",
            "type",
            "data",
            "created",
            "published",
            "attempts",
            "last_error",
        ]
        read_only_fields = fields


class InboundEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundEvent
        fields = [
            "id",
            "topic",
            "partition",
            "offset",
            "timestamp_ms",
            "key",
            "payload",
            "raw",
            "status",
            "message",
            "details",
            "received",
        ]
        read_only_fields = fields


class OutboxEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = OutboxEventSerializer

    def get_queryset(self):
        params = self.request.query_params
        pending = params.get("pending")
        if pending is not None and pending.lower() not in BOOLEANS:
            raise ApplicationError(
                "pending is true or false", extra={"fields": {"pending": ["true or false"]}}
            )
        return selectors.outbox_list(
            topic=params.get("topic"),
            pending=None if pending is None else BOOLEANS[pending.lower()],
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("topic", str, description="only this topic's events"),
            OpenApiParameter("pending", bool, description="only (un)published events"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class InboundEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = InboundEventSerializer

    def get_queryset(self):
        params = self.request.query_params
        status = params.get("status")
        if status and status not in InboundStatus.values:
            raise ApplicationError(
                f"Unknown status {status!r}",
                extra={"fields": {"status": [f"one of {', '.join(InboundStatus.values)}"]}},
            )
        return selectors.inbound_list(topic=params.get("topic"), status=status)

    @extend_schema(
        parameters=[
            OpenApiParameter("topic", str, description="only this topic's messages"),
            OpenApiParameter("status", str, enum=InboundStatus.values),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


router = SimpleRouter()
router.register("events/outbox", OutboxEventViewSet, basename="events-outbox")
router.register("events/inbound", InboundEventViewSet, basename="events-inbound")

urlpatterns = router.urls
