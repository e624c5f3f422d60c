"""Admin of configs: template overrides (change-logged) and read-only config versions."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from turnup.configs.models import ConfigTemplate, ConfigVersion
from turnup.configs.selectors import config_version_text
from turnup.core.admin import BaseAdmin, ChangeLoggedAdmin
from turnup.core.errors import ApplicationError


@admin.register(ConfigTemplate)
class ConfigTemplateAdmin(ChangeLoggedAdmin):
    list_display = ("path", "enabled", "description", "updated")
    list_filter = ("enabled",)
    search_fields = ("path", "description")


@admin.register(ConfigVersion)
class ConfigVersionAdmin(BaseAdmin):
    list_display = ("hostname", "kind", "short_sha", "size", "author", "created", "lint_errors")
    list_filter = ("kind",)
    search_fields = ("hostname", "sha256")
    list_select_related = ("device",)
    readonly_fields = [f.name for f in ConfigVersion._meta.fields] + ["text"]

    @admin.display(description="sha256")
    def short_sha(self, obj) -> str:
        return obj.sha256[:12]

    @admin.display(description="config text")
    def text(self, obj) -> str:
        try:
            body = config_version_text(version=obj)
        except ApplicationError as error:
            body = error.message
        return format_html("<pre>{}</pre>", body)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
