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

    def save_formset(self, request, form, formset, change):
        """Inline rows are logged too: created, updated and deleted ones, one insert each."""
        token = bind_actor(request.user)
        try:
            instances = formset.save(commit=False)
            changed = [obj for obj in instances if obj.pk is not None]
            before = {}
            if changed:
                fresh = type(changed[0]).objects.filter(pk__in=[obj.pk for obj in changed])
                before = changelog_snapshot(list(fresh))
            changelog_record(action="delete", instances=list(formset.deleted_objects))
            for obj in formset.deleted_objects:
                obj.delete()
            created = [obj for obj in instances if obj.pk is None]
            for obj in instances:
                obj.save()
            formset.save_m2m()
            changelog_record(action="create", instances=created)
            changelog_record(action="update", instances=changed, before=before)
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
