"""Admin of blueprints: upload or edit the YAML source (validated, with path: reason errors),
and see which site each blueprint built."""

from __future__ import annotations

import json
import math

from django import forms
from django.contrib import admin
from django.forms.fields import InvalidJSONInput
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
        values, lines = {}, {}
        for number, line in enumerate(self.cleaned_data["params"].splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"line {number}: use name=value")
            if key.strip() in lines:
                raise forms.ValidationError(
                    f"line {number}: {key.strip()} is already given on line {lines[key.strip()]}"
                )
            lines[key.strip()] = number
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
        changed = self.instance.pk and source != self.instance.source
        if changed and document["version"] <= self.instance.version:
            # as the API: a changed blueprint is a new version, so the sites built from the
            # old one can tell (their instance keeps the version they were built from)
            raise forms.ValidationError(
                f"version: {document['version']} — a changed blueprint needs a version above "
                f"{self.instance.version}"
            )
        if not self.instance.pk and Blueprint.objects.filter(name=document["name"]).exists():
            raise forms.ValidationError(
                f"name: a blueprint named {document['name']!r} already exists; "
                "change it from its own page"
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


class VariablesField(forms.JSONField):
    """The free template variables: a JSON object that PostgreSQL can store (no NUL, finite
    numbers) and the config templates can read (``site_template_variables`` takes a mapping).
    """

    MAX_DEPTH = 50

    def to_python(self, value):
        if value in self.empty_values:
            return {}
        try:
            data = json.loads(value, parse_constant=self._refuse_constant)
        except (json.JSONDecodeError, RecursionError):
            raise forms.ValidationError("Enter a valid JSON object.") from None
        except ValueError as error:  # NaN, Infinity
            raise forms.ValidationError(str(error)) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(
                f'Enter a JSON object ({{"name": value, …}}), not {self._kind(data)}.'
            )
        self._check(data, path="", depth=0)
        return data

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:  # shown back as typed
            return InvalidJSONInput(data)

    @staticmethod
    def _kind(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "null"
        kinds = {list: "a list", str: "a string", int: "a number", float: "a number"}
        return kinds[type(value)]

    @staticmethod
    def _refuse_constant(name: str):
        raise ValueError(f"{name} is not a number JSON allows; use a finite number.")

    def _check(self, value, *, path: str, depth: int) -> None:
        if depth > self.MAX_DEPTH:
            raise forms.ValidationError(f"{path}: nested deeper than {self.MAX_DEPTH} levels.")
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise forms.ValidationError(f"{path or '(top)'}: a name holds a NUL character.")
                self._check(item, path=f"{path}.{key}" if path else key, depth=depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._check(item, path=f"{path}[{index}]", depth=depth + 1)
        elif isinstance(value, str) and "\x00" in value:
            raise forms.ValidationError(f"{path}: NUL characters are not allowed.")
        elif isinstance(value, float) and not math.isfinite(value):
            raise forms.ValidationError(f"{path}: {value} is not a finite number.")


class BlueprintInstanceForm(forms.ModelForm):
    variables = VariablesField(required=False, widget=forms.Textarea(attrs={"rows": 10}))

    class Meta:
        model = BlueprintInstance
        fields = ("variables",)


@admin.register(BlueprintInstance)
class BlueprintInstanceAdmin(ChangeLoggedAdmin):
    form = BlueprintInstanceForm
    list_display = ("site", "blueprint", "blueprint_version", "applied")
    list_select_related = ("site", "blueprint")
    search_fields = ("site__name", "blueprint__name")
    readonly_fields = ("site", "blueprint", "blueprint_version", "params", "applied")
    fields = ("site", "blueprint", "blueprint_version", "params", "variables", "applied")

    def has_add_permission(self, request) -> bool:
        return False  # a site is built from a blueprint on the blueprint's instantiate page
