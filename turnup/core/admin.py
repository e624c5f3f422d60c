"""Admin plumbing: every ModelAdmin writes the change log, like the API and the services."""

from __future__ import annotations

from django.contrib import admin

from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.context import bind_actor, unbind_actor
from turnup.core.models import ObjectChange


class ChangeLoggedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes are recorded in the change log."""

    def save_model(self, request, obj, form, change):
        token = bind_actor(request.user)
        try:
            before = {}
            if change and obj.pk:
                before = changelog_snapshot([type(obj).objects.get(pk=obj.pk)])
            super().save_model(request, obj, form, change)
            changelog_record(
                action="update" if change else "create", instances=[obj], before=before
            )
        finally:
            unbind_actor(token)

    def delete_model(self, request, obj):
        token = bind_actor(request.user)
        try:
            changelog_record(action="delete", instances=[obj])
            super().delete_model(request, obj)
        finally:
            unbind_actor(token)

    def delete_queryset(self, request, queryset):
        token = bind_actor(request.user)
        try:
            changelog_record(action="delete", instances=list(queryset))
            super().delete_queryset(request, queryset)
        finally:
            unbind_actor(token)


@admin.register(ObjectChange)
class ObjectChangeAdmin(admin.ModelAdmin):
    list_display = (
        "time",
        "user_name",
        "action",
        "changed_object_type",
        "object_repr",
        "request_id",
    )
    list_filter = ("action", "changed_object_type")
    search_fields = ("object_repr", "user_name", "request_id")
    readonly_fields = [f.name for f in ObjectChange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
