"""Admin of events: read-only lists of the outbox and of the consumed messages."""

from django.contrib import admin

from turnup.core.admin import BaseAdmin
from turnup.events.models import InboundEvent, OutboxEvent


class ReadOnly(BaseAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnly):
    list_display = ["id", "type", "key", "created", "published", "attempts", "last_error"]
    list_filter = ["topic", "type"]
    search_fields = ["key"]


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnly):
    list_display = ["id", "topic", "partition", "offset", "status", "message", "received"]
    list_filter = ["topic", "status"]
    search_fields = ["key", "message"]
