"""configs: template overrides kept in the database, and every rendered config version."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from turnup.core.models import BaseModel

TEMPLATE_PATH_VALIDATOR = RegexValidator(
    r"^[a-z0-9_]+/([a-z0-9_-]+/)*[A-Za-z0-9_.-]+\.j2$",
    "A template path such as 'cisco_iosxe/edge.j2'.",
)


class ConfigTemplate(BaseModel):
    """A template that replaces the shipped one at the same ``path`` (e.g.
    ``cisco_iosxe/edge.j2`` for IOS-XE edge routers, ``juniper_junos/bootstrap.j2``, or a
    partial such as ``cisco_iosxe/partials/ntp.j2``). Disabled rows are ignored; with no row
    the templates folder under the data dir, then the shipped template, is used."""

    path = models.CharField(max_length=200, unique=True, validators=[TEMPLATE_PATH_VALIDATOR])
    text = models.TextField()
    enabled = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path

    def clean(self) -> None:
        super().clean()
        from turnup.configs.rendering import build_environment

        try:
            build_environment().parse(self.text)
        except Exception as error:  # jinja2.TemplateSyntaxError and friends
            raise ValidationError({"text": f"not a valid template: {error}"}) from None


class ConfigVersion(BaseModel):
    """One config of a device, as stored (content-addressed) in the default storage: a
    rendered ``bootstrap`` or ``full`` config, or the ``running`` config read back from the
    router after turn-up (so it can be diffed against what was rendered).

    A new row is written only when the text differs from the device's latest version of the
    same kind. ``design_change_id`` is the newest change-log entry (``core.ObjectChange``)
    when it was rendered: the state of the design it came from.
    """

    CHANGELOGGED = False  # an archive of what was rendered and read back, not design

    class Kind(models.TextChoices):
        BOOTSTRAP = "bootstrap", "Bootstrap (console)"
        FULL = "full", "Full day-0 config"
        RUNNING = "running", "Running config read back"

    device = models.ForeignKey(
        "dcim.Device", on_delete=models.CASCADE, related_name="config_versions"
    )
    hostname = models.CharField(max_length=64, help_text="The device's name when rendered.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField(help_text="Bytes.")
    lines = models.PositiveIntegerField(default=0)
    author = models.CharField(max_length=150, blank=True)
    design_change_id = models.PositiveBigIntegerField(null=True, blank=True)
    template = models.CharField(max_length=200, blank=True)
    storage_path = models.CharField(max_length=300)
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["device", "kind", "-id"], name="configs_version_latest")]

    def __str__(self) -> str:
        return f"{self.hostname} {self.kind} {self.sha256[:12]}"

    @property
    def lint_errors(self) -> int:
        return sum(1 for f in self.findings if f.get("severity") == "error")
