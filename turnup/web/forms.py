"""Forms of the pages. The blueprint parameter form is generated from the blueprint's own
parameter schema, so a new blueprint needs no new code."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from turnup.core.validation import pattern_fullmatch
from turnup.dcim.models import CredentialProfile, Interface
from turnup.ipam.models import Prefix


def blueprint_param_form(parameters: dict[str, dict[str, Any]], data=None) -> forms.Form:
    """A form with one field per blueprint parameter, typed, with defaults, choices, bounds
    and the parameter's description as help text. ``name`` comes first."""
    fields: dict[str, forms.Field] = {}
    ordered = sorted(parameters.items(), key=lambda item: item[0] != "name")
    for name, spec in ordered:
        kind = spec["type"]
        required = bool(spec.get("required", name == "name")) and "default" not in spec
        common = {
            "required": required,
            "help_text": spec.get("description", ""),
            "label": name.replace("_", " ").capitalize(),
        }
        if "default" in spec:
            common["initial"] = spec["default"]
        if "choices" in spec:
            choices = [(str(c), str(c)) for c in spec["choices"]]
            if kind == "integer":
                field: forms.Field = forms.TypedChoiceField(choices=choices, coerce=int, **common)
            else:
                field = forms.ChoiceField(choices=choices, **common)
        elif kind == "integer":
            field = forms.IntegerField(
                min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common
            )
        elif kind == "boolean":
            common["required"] = False
            field = forms.BooleanField(**common)
        else:
            validators = [pattern_validator(spec["pattern"])] if "pattern" in spec else []
            # room for the blueprint's own default, however long
            longest = max(100, len(str(spec.get("default", ""))))
            field = forms.CharField(validators=validators, max_length=longest, **common)
            if "pattern" in spec:
                field.widget.attrs["pattern"] = _html_pattern(spec["pattern"])
        field.widget.attrs.setdefault("data-param", name)
        fields[name] = field
    form_class = type("BlueprintParamForm", (forms.Form,), fields)
    return form_class(data=data, prefix="p")


def _html_pattern(pattern: str) -> str:
    """The pattern for the browser's ``pattern`` attribute, which anchors it itself: without
    its one leading ``^`` and one trailing ``$`` (an escaped ``\\$`` stays)."""
    pattern = pattern.removeprefix("^")
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1]
    return pattern


def pattern_validator(pattern: str) -> Callable[[str], None]:
    """A form validator matching the whole value against a blueprint parameter's pattern the
    way the blueprint service does (the ``regex`` engine with a time limit), so a pattern
    Python's ``re`` cannot compile, or one that backtracks without end, is a reason next to
    the field rather than a server error or a request that never ends."""

    def validate(value: str) -> None:
        try:
            matched = pattern_fullmatch(pattern, value)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if not matched:
            raise ValidationError(f"Must match {pattern}")

    return validate


PARAM_ERROR = re.compile(r"^params\.([a-z_][a-z0-9_]*):\s*(.*)$")


def apply_param_errors(form: forms.Form, errors: list[str]) -> list[str]:
    """Put each ``params.<name>: reason`` error on its field; return the ones that belong to
    no field (shown at the top of the form)."""
    rest = []
    for error in errors:
        match = PARAM_ERROR.match(error)
        if match and match.group(1) in form.fields:
            form.add_error(match.group(1), match.group(2))
        else:
            rest.append(error)
    return rest


class AllocateForm(forms.Form):
    """Next-free allocation from a prefix: a child prefix of a length, or N addresses."""

    KIND_CHOICES = (("prefix", "child prefix"), ("ip", "IP address"))

    kind = forms.ChoiceField(choices=KIND_CHOICES)
    prefix_length = forms.IntegerField(min_value=1, max_value=128, required=False)
    count = forms.IntegerField(min_value=1, max_value=256, initial=1)
    description = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, target: Prefix | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.target = target
        if target is not None:
            bits = target.max_length()
            field = self.fields["prefix_length"]
            field.min_value = target.prefix_length + 1
            if target.prefix_length >= bits:
                field.help_text = f"a /{bits} is a single address: it holds no child prefix"
            else:
                field.help_text = f"/{target.prefix_length + 1} to /{bits}"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target = self.target
        single = target is not None and target.prefix_length >= target.max_length()
        if data.get("kind") == "prefix" and single:
            self.add_error(
                "prefix_length",
                f"{target} is a single address: it holds no child prefix.",
            )
            return data
        # a length given but not valid already has its reason on the field
        if (
            data.get("kind") == "prefix"
            and not data.get("prefix_length")
            and "prefix_length" not in self.errors
        ):
            self.add_error("prefix_length", "Give the length of the child prefix, e.g. 31.")
        return data


class InterfaceForm(forms.ModelForm):
    """The fields of an interface an engineer fixes from a finding."""

    class Meta:
        model = Interface
        fields = ["enabled", "mtu", "description"]

    def changed_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class SiteCredentialsForm(forms.Form):
    credential_profile = forms.ModelChoiceField(
        queryset=CredentialProfile.objects.order_by("name"),
        required=False,
        empty_label="(none — use the default profile)",
    )
