"""The change log: every create, update and delete of a design object, in one insert per batch.

Services call ``changelog_record`` after they write; the actor and request id come from
``turnup.core.context``. Fields named in a model's ``CHANGELOG_EXCLUDE`` (secrets) never
reach the log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from turnup.core.context import current_actor, current_request_id
from turnup.core.models import ObjectChange

# Batches at least this big go through COPY on PostgreSQL (one round trip, no per-value
# parameter adaptation); smaller ones through bulk_create, which returns their ids.
COPY_THRESHOLD = 200


def _snapshot_one(instance: models.Model) -> dict[str, Any]:
    excluded = set(getattr(instance, "CHANGELOG_EXCLUDE", ()))
    data = {
        field.attname: field.value_from_object(instance)
        for field in instance._meta.concrete_fields
        if field.name not in excluded and field.attname not in excluded
    }
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def changelog_snapshot(instances: Sequence[models.Model]) -> dict[Any, dict[str, Any]]:
    """The logged state of each instance, keyed by primary key (take it before a change)."""
    return {instance.pk: _snapshot_one(instance) for instance in instances}


def changelog_record(
    *,
    action: str,
    instances: Sequence[models.Model],
    before: dict[Any, dict[str, Any]] | None = None,
) -> list[ObjectChange]:
    """Record ``action`` on every instance with one bulk insert.

    Record a delete *before* deleting (in the same transaction), while the instances still
    have their primary keys; for an update pass ``before`` from ``changelog_snapshot``.
    """
    if not instances:
        return []
    ObjectChange.Action(action)  # refuses an unknown action
    actor = current_actor()
    request_id = current_request_id() or ""
    before = before or {}
    now = timezone.now()
    content_types = ContentType.objects.get_for_models(*{type(i) for i in instances})
    rows = []
    for instance in instances:
        if action == ObjectChange.Action.DELETE:
            pre, post = before.get(instance.pk) or _snapshot_one(instance), None
        else:
            pre, post = before.get(instance.pk), _snapshot_one(instance)
        rows.append(
            ObjectChange(
                time=now,
                user_id=actor.user_id if actor else None,
                user_name=actor.username if actor else "",
                request_id=request_id,
                action=action,
                changed_object_type=content_types[type(instance)],
                changed_object_id=instance.pk,
                object_repr=str(instance)[:200],
                prechange_data=pre,
                postchange_data=post,
            )
        )
    if connection.vendor == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _copy_rows(rows)
        return rows
    return ObjectChange.objects.bulk_create(rows)


def _copy_rows(rows: list[ObjectChange]) -> None:
    """Write a big batch with PostgreSQL's COPY: the JSON snapshots go over as text, without
    the per-value adaptation an INSERT of thousands of JSON parameters costs."""
    columns = (
        "time",
        "user_id",
        "user_name",
        "request_id",
        "action",
        "changed_object_type_id",
        "changed_object_id",
        "object_repr",
        "prechange_data",
        "postchange_data",
    )
    table = ObjectChange._meta.db_table
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (
                        row.time,
                        row.user_id,
                        row.user_name,
                        row.request_id,
                        row.action,
                        row.changed_object_type_id,
                        row.changed_object_id,
                        row.object_repr,
                        None if row.prechange_data is None else json.dumps(row.prechange_data),
                        None if row.postchange_data is None else json.dumps(row.postchange_data),
                    )
                )
