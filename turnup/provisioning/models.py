"""Owned by helper 'graph' (Run/Step graph); the engine helper owns drivers/.

Models of a site turn-up: a Run per site, its Steps per device and stage, and the console-line
locks that keep one session per line.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from turnup.core.models import BaseModel


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


RUN_FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


STEP_FINISHED = (StepStatus.DONE, StepStatus.FAILED, StepStatus.SKIPPED)


class StepName(models.TextChoices):
    """The steps of one router, in order. ``bootstrap`` is the console session (claim the
    line, wake, log in, push the bootstrap, commit with a safety net; each sub-phase's time
    is recorded in ``Step.phases``); the others work over the management network."""

    BOOTSTRAP = "bootstrap", "Bootstrap over the console"
    FULL_CONFIG = "full_config", "Full config over management"
    VERIFY = "verify", "Verify"
    CONFIRM = "confirm", "Confirm / save"
    ARCHIVE = "archive", "Archive running config"


STEP_ORDER: tuple[str, ...] = tuple(StepName.values)
#: The steps that work in the router's console session; the others share its management one.
CONSOLE_STEPS = frozenset({StepName.BOOTSTRAP})


class Run(BaseModel):
    """One turn-up of a site: every router of the site from factory state to verified."""

    site = models.ForeignKey("dcim.Site", on_delete=models.PROTECT, related_name="turnup_runs")
    status = models.CharField(
        max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="turnup_runs",
    )
    overwrite = models.BooleanField(
        default=False, help_text="Replace routers that are not in factory state."
    )
    cancel_requested = models.BooleanField(default=False)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # {"devices": {name: {"status", "reason", "message"}}, "failed": [...], "stages": [...]}
    summary = models.JSONField(default=dict, blank=True)
    # How many times the graph was (re-)enqueued: first start, retries, crash recovery.
    graphs = models.PositiveIntegerField(default=0)
    # The configs this run pushes, rendered when it started (and again for the routers a
    # retry turns up): {device id: {"bootstrap": ConfigVersion id, "full": id}}. A router
    # missing here is rendered by its step (which records why it cannot be).
    config_versions = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["site", "-created"])]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.site_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in RUN_FINISHED


class Step(BaseModel):
    """One step of one router in a run. Idempotent: a step that is done is never redone, and
    a step whose heartbeat stopped (its worker died) is taken over by the next delivery."""

    CHANGELOGGED = False  # the run's own record

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    device = models.ForeignKey("dcim.Device", on_delete=models.PROTECT, related_name="turnup_steps")
    stage = models.PositiveSmallIntegerField(help_text="Stage index: lower stages go first.")
    order = models.PositiveSmallIntegerField(help_text="Position in the device's chain.")
    name = models.CharField(max_length=20, choices=StepName.choices)
    status = models.CharField(
        max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    owner = models.CharField(max_length=120, blank=True, help_text="worker host:pid:thread")
    seconds = models.FloatField(null=True, blank=True)
    time_limit = models.FloatField(null=True, blank=True, help_text="Seconds, from bytes ÷ rate")
    bytes_pushed = models.PositiveIntegerField(default=0)
    bytes_total = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=40, blank=True, help_text="Stable failure code")
    message = models.TextField(blank=True)
    log = models.TextField(blank=True, help_text="Scrubbed excerpt of the session")
    phases = models.JSONField(default=dict, blank=True, help_text="Sub-phase seconds")
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "stage", "device__name", "order"]
        constraints = [
            models.UniqueConstraint(fields=["run", "device", "name"], name="step_unique_per_run")
        ]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self) -> str:
        return f"{self.name} of device {self.device_id} ({self.status})"


class ConsoleLineLock(models.Model):
    """One session per console line: the row exists while a step holds the line — one
    delivery of it (``owner``: a delivery that took the step over waits for the line until
    the lock of the one before expires). A lock whose ``expires_at`` is past is stale (its
    holder died or lost its step) and may be taken over."""

    key = models.CharField(max_length=200, unique=True, help_text="console server:line")
    server = models.CharField(max_length=120, db_index=True)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="line_locks")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="line_locks")
    owner = models.CharField(
        max_length=120, blank=True, help_text="the delivery of the step that holds the line"
    )
    taken = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key} held by step {self.step_id} until {self.expires_at:%H:%M:%S}"
