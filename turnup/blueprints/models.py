"""blueprints: declarative site templates and the record of which blueprint (and which
parameter values) built each site."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from turnup.core.models import BaseModel


class Blueprint(BaseModel):
    """A site template: its YAML source and the parsed, validated document.

    One row per name; uploading a newer version replaces the source (the change log keeps
    the old one).
    """

    name = models.CharField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9-]*$", "Lower-case letters, digits, dashes.")],
    )
    version = models.PositiveIntegerField(default=1)
    description = models.CharField(max_length=200, blank=True)
    source = models.TextField(help_text="The blueprint as YAML.")
    document = models.JSONField(default=dict, help_text="The validated document (from source).")
    builtin = models.BooleanField(default=False, help_text="Shipped with turnup.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class BlueprintInstance(BaseModel):
    """The blueprint a site was built from, with the parameter values and the free template
    variables the config templates read (``variables``)."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("site",)

    site = models.OneToOneField(
        "dcim.Site", on_delete=models.CASCADE, related_name="blueprint_instance"
    )
    blueprint = models.ForeignKey(Blueprint, on_delete=models.PROTECT, related_name="instances")
    blueprint_version = models.PositiveIntegerField()
    params = models.JSONField(default=dict)
    variables = models.JSONField(default=dict, blank=True)
    applied = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["site_id"]

    REPR_RELATED = ("site", "blueprint")  # what its name is made of (read at once when logged)

    def __str__(self) -> str:
        return f"{self.site} from {self.blueprint}"
