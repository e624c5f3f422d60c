"""Admin of blueprints: upload or edit the YAML source (validated, with path: reason errors),
and see which site each blueprint built."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from turnup.blueprints.design import BlueprintInvalid, document_load
from turnup.blueprints.models import Blueprint, BlueprintInstance
from turnup.blueprints.services import blueprint_instantiate
from turnup.core.admin import ChangeLoggedAdmin
from turnup.core.context import bind_actor, unbind_actor
from turnup.core.errors import ApplicationError


class InstantiateForm(forms.Form):
    params = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="name=LON-01 on the first line, then any other parameter.",
    )

    def clean_params(self):
        values = {}
        for number, line in enumerate(self.cleaned_data["params"].splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"line {number}: use name=value")
            values[key.strip()] = value.strip()
        return values


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
    list_display = ("name", "version", "description", "builtin", "updated", "instantiate_link")
    list_filter = ("builtin",)
    search_fields = ("name", "description")
    readonly_fields = ("name", "version", "description", "builtin")

    @admin.display(description="site")
    def instantiate_link(self, obj):
        url = reverse("admin:blueprints_blueprint_instantiate", args=[obj.pk])
        return format_html('<a href="{}">plan / instantiate</a>', url)

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/instantiate/",
                self.admin_site.admin_view(self.instantiate_view),
                name="blueprints_blueprint_instantiate",
            )
        ]
        return extra + super().get_urls()

    def instantiate_view(self, request, pk: int):
        """Plan (dry run) or instantiate a site from this blueprint, with the plan table."""
        blueprint = get_object_or_404(Blueprint, pk=pk)
        form = InstantiateForm(request.POST or None)
        plan, errors = None, []
        if request.method == "POST" and form.is_valid():
            token = bind_actor(request.user)
            try:
                plan = blueprint_instantiate(
                    blueprint=blueprint,
                    params=form.cleaned_data["params"],
                    apply="apply" in request.POST,
                )
            except BlueprintInvalid as error:
                errors = error.errors
            except ApplicationError as error:
                errors = [error.message]
            finally:
                unbind_actor(token)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "blueprint": blueprint,
            "parameters": list(blueprint.document.get("parameters", {}).items()),
            "form": form,
            "plan": plan,
            "errors": errors,
            "title": f"Instantiate {blueprint}",
        }
        return TemplateResponse(request, "admin/blueprints/instantiate.html", context)


@admin.register(BlueprintInstance)
class BlueprintInstanceAdmin(ChangeLoggedAdmin):
    list_display = ("site", "blueprint", "blueprint_version", "applied")
    list_select_related = ("site", "blueprint")
    search_fields = ("site__name", "blueprint__name")
    readonly_fields = ("site", "blueprint", "blueprint_version", "params", "applied")
    fields = ("site", "blueprint", "blueprint_version", "params", "variables", "applied")
