"""The base every turnup model stands on, and the change log every write leaves."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class BaseModel(models.Model):
    """Adds creation and last-change timestamps.

    ``CHANGELOGGED``: whether a delete that cascades to rows of the model logs them (records
    the engine keeps of its own, not design, say no)."""

    CHANGELOGGED = True

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ObjectChange(models.Model):
    """One create, update or delete of a design object: who, when, which request, before/after."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"

    time = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="object_changes",
    )
    user_name = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    changed_object_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="object_changes"
    )
    changed_object_id = models.PositiveBigIntegerField()
    object_repr = models.CharField(max_length=200)
    prechange_data = models.JSONField(null=True, blank=True)
    postchange_data = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["changed_object_type", "changed_object_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr} by {self.user_name or 'system'}"
