"""Admin of blueprints: upload or edit the YAML source (validated, with path: reason errors),
and see which site each blueprint built."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from turnup.blueprints.design import BlueprintInvalid, document_load
from turnup.blueprints.models import Blueprint, BlueprintInstance
from turnup.core.admin import ChangeLoggedAdmin


class BlueprintForm(forms.ModelForm):
    class Meta:
        model = Blueprint
        fields = ("source",)
        widgets = {
            "source": forms.Textarea(attrs={"rows": 40, "cols": 120, "class": "vLargeTextField"})
        }

    def clean_source(self):
        source = self.cleaned_data["source"]
        try:
            document = document_load(source)
        except BlueprintInvalid as error:
            raise forms.ValidationError(error.errors) from None
        if self.instance.pk and document["name"] != self.instance.name:
            raise forms.ValidationError(
                f"name: this blueprint is {self.instance.name!r}; upload {document['name']!r} "
                "as a new blueprint"
            )
        self.instance.name = document["name"]
        self.instance.version = document["version"]
        self.instance.description = document.get("description", "")[:200]
        self.instance.document = document
        return source


@admin.register(Blueprint)
class BlueprintAdmin(ChangeLoggedAdmin):
    form = BlueprintForm
    list_display = ("name", "version", "description", "builtin", "updated")
    list_filter = ("builtin",)
    search_fields = ("name", "description")
    readonly_fields = ("name", "version", "description", "builtin")


@admin.register(BlueprintInstance)
class BlueprintInstanceAdmin(ChangeLoggedAdmin):
    list_display = ("site", "blueprint", "blueprint_version", "applied")
    list_select_related = ("site", "blueprint")
    search_fields = ("site__name", "blueprint__name")
    readonly_fields = ("site", "blueprint", "blueprint_version", "params", "applied")
    fields = ("site", "blueprint", "blueprint_version", "params", "variables", "applied")
