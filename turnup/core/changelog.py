"""The change log: every create, update and delete of a design object, in one insert per batch.

Services call ``changelog_record`` after they write; the actor and request id come from
``turnup.core.context``. Fields named in a model's ``CHANGELOG_EXCLUDE`` (secrets) never
reach the log.

Every design write passes here, so this is also where writes are vetted: a *guard*
registered with ``changelog_guard_register`` sees each batch (the instances with their state
before and after) and may refuse it by raising an ``ApplicationError``; the service's
transaction then rolls the write back. dcim's guard keeps the design of a site that is
turning up from changing (``dcim.services.site_design_freeze_check``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from turnup.core.context import current_actor, current_request_id
from turnup.core.models import ObjectChange

# Batches at least this big go through COPY on PostgreSQL (one round trip, no per-value
# parameter adaptation); smaller ones through bulk_create, which returns their ids.
COPY_THRESHOLD = 200


class Change(NamedTuple):
    """One instance of a batch with its logged state before (``None``: created) and after
    (``None``: deleted)."""

    instance: models.Model
    before: dict[str, Any] | None
    after: dict[str, Any] | None


ChangelogGuard = Callable[..., None]
_guards: list[ChangelogGuard] = []


def changelog_guard_register(guard: ChangelogGuard) -> ChangelogGuard:
    """Register ``guard(*, action, changes: list[Change])``, called before every batch is
    logged; it refuses the write by raising an ``ApplicationError``."""
    if guard not in _guards:
        _guards.append(guard)
    return guard


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
    The registered guards see the batch first and may refuse it.
    """
    if not instances:
        return []
    ObjectChange.Action(action)  # refuses an unknown action
    before = before or {}
    changes = []
    for instance in instances:
        if action == ObjectChange.Action.DELETE:
            changes.append(
                Change(instance, before.get(instance.pk) or _snapshot_one(instance), None)
            )
        else:
            changes.append(Change(instance, before.get(instance.pk), _snapshot_one(instance)))
    _repr_relations_load(instances)  # the guards name the rows they refuse
    for guard in list(_guards):
        guard(action=action, changes=changes)
    actor = current_actor()
    request_id = current_request_id() or ""
    now = timezone.now()
    content_types = ContentType.objects.get_for_models(*{type(i) for i in instances})
    rows = []
    for instance, pre, post in changes:
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


def _repr_relations_load(instances: Sequence[models.Model]) -> None:
    """Read at once the related rows the instances' names are made of (a model lists them
    in ``REPR_RELATED``: an OSPF interface is named after its interface), not one query per
    instance as each is named; the ones already loaded are not read again."""
    by_model: dict[type, list[models.Model]] = {}
    for instance in instances:
        by_model.setdefault(type(instance), []).append(instance)
    for model, rows in by_model.items():
        related = getattr(model, "REPR_RELATED", ())
        if related:
            models.prefetch_related_objects(rows, *related)


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
