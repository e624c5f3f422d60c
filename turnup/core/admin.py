"""Admin plumbing: every ModelAdmin writes the change log, like the API and the services,
and answers odd query strings and selections with a message, never a server error; a write
a business rule refuses (``ApplicationError``, e.g. the design of a site that is turning up)
is rolled back whole and shown as a message."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect

from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.context import bind_actor, unbind_actor
from turnup.core.errors import ApplicationError
from turnup.core.models import ObjectChange
from turnup.core.services import model_bulk_delete
from turnup.core.validation import id_value


class CheckedChangeList(ChangeList):
    """A change list whose filters refuse a NUL character (PostgreSQL cannot compare text
    with one) like any other bad filter value: the admin redirects to the list with ``?e=1``."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        for key, values in lookup_params.items():
            if "\x00" in key or any("\x00" in value for value in values):
                raise IncorrectLookupParameters(f"{key}: null characters are not allowed")
        return lookup_params


class BaseAdmin(admin.ModelAdmin):
    """Every turnup ModelAdmin: odd query strings and odd selections answer like other bad
    input (the list again, with a message), never a server error."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def response_action(self, request, queryset):
        """An action on selected ids that are not ids of this model (``abc``) changes
        nothing and says so, instead of failing on the query."""
        invalid = []
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                key = self.model._meta.pk.to_python(value)
                if isinstance(key, int):
                    id_value(key)  # a whole number a bigint column can hold
            except (ValidationError, ValueError):
                invalid.append(value)
        if invalid:
            self.message_user(
                request,
                f"Not ids of {self.model._meta.verbose_name_plural}: "
                f"{', '.join(map(repr, invalid))[:200]}. No items have been changed.",
                messages.WARNING,
            )
            return None
        try:
            with transaction.atomic():  # an action on many rows does all of them or none
                return super().response_action(request, queryset)
        except ApplicationError as error:
            self.message_user(
                request, f"{error.message} No items have been changed.", messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django's change form saves in one transaction, which the error has rolled back
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            self.message_user(request, f"Not saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApplicationError as error:
            self.message_user(request, f"Not deleted: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ChangeLoggedAdmin(BaseAdmin):
    """A ModelAdmin whose saves and deletes are recorded in the change log."""

    bulk_delete_service = None  # (*, instances) -> None: the model's own delete rules

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
            model_bulk_delete(instances=list(formset.deleted_objects))
            created = [obj for obj in instances if obj.pk is None]
            for obj in instances:
                obj.save()
            formset.save_m2m()
            changelog_record(action="create", instances=created)
            changelog_record(action="update", instances=changed, before=before)
        finally:
            unbind_actor(token)

    def delete_model(self, request, obj):
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        """Deletes go through the model's bulk delete service (``bulk_delete_service``, else
        the generic one): what they cascade to is logged too."""
        token = bind_actor(request.user)
        try:
            delete = type(self).bulk_delete_service or model_bulk_delete
            delete(instances=list(queryset))
        finally:
            unbind_actor(token)


@admin.register(ObjectChange)
class ObjectChangeAdmin(BaseAdmin):
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


def _third_party_admins_checked() -> None:
    """The admins Django and DRF register themselves (users, groups, tokens) get the same
    checks: they are registered before this module runs (INSTALLED_APPS lists them first)."""
    for model, model_admin in list(admin.site._registry.items()):
        if isinstance(model_admin, BaseAdmin):
            continue
        checked = type(type(model_admin).__name__, (BaseAdmin, type(model_admin)), {})
        admin.site.unregister(model)
        admin.site.register(model, checked)


_third_party_admins_checked()
