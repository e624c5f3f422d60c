"""The base every turnup model stands on."""

from django.db import models


class BaseModel(models.Model):
    """Adds creation and last-change timestamps."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
