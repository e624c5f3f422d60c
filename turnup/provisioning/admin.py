"""Admin of provisioning: runs and their steps, read-only (runs change only through the
services: start, cancel, retry), and the console-line locks (a stuck one may be deleted)."""

from __future__ import annotations

from django.contrib import admin

from turnup.core.admin import BaseAdmin, ChangeLoggedAdmin
from turnup.provisioning.models import ConsoleLineLock, Run, Step


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    can_delete = False
    fields = (
        "device",
        "stage",
        "name",
        "status",
        "attempts",
        "seconds",
        "bytes_pushed",
        "bytes_total",
        "reason",
        "message",
    )
    readonly_fields = fields
    ordering = ("stage", "device__name", "order")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(ChangeLoggedAdmin):
    list_display = ("id", "site", "status", "requested_by", "created", "started", "finished")
    list_filter = ("status",)
    search_fields = ("site__name",)
    list_select_related = ("site", "requested_by")
    readonly_fields = [f.name for f in Run._meta.fields]
    inlines = [StepInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a run changes through its services only (it is shown, not edited)


@admin.register(Step)
class StepAdmin(BaseAdmin):
    list_display = ("id", "run", "device", "name", "status", "attempts", "seconds", "reason")
    list_filter = ("status", "name", "reason")
    search_fields = ("device__name",)
    list_select_related = ("run", "device")
    readonly_fields = [f.name for f in Step._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConsoleLineLock)
class ConsoleLineLockAdmin(BaseAdmin):
    """Locks are taken by the steps themselves; a person may only look, or delete one."""

    list_display = ("key", "server", "run", "step", "taken", "expires_at")
    readonly_fields = [f.name for f in ConsoleLineLock._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
