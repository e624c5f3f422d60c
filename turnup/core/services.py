"""Generic write services for models without rules of their own.

Apps with rules write their own ``<entity>_create`` etc. and call ``changelog_record``
themselves; these defaults keep simple models to the same contract: full_clean, save,
change log, all in one transaction.

The model (or instance) is positional-only, so a model field of the same name (``DeviceType``
has a field called ``model``) is just one more of ``**fields``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import signals
from django.db.models.deletion import Collector

from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.errors import ApplicationError


def _split_m2m(model: type[models.Model], fields: dict[str, Any]) -> dict[str, Any]:
    m2m_names = {field.name for field in model._meta.many_to_many}
    return {name: fields.pop(name) for name in list(fields) if name in m2m_names}


@transaction.atomic
def model_create(model: type[models.Model], /, **fields: Any) -> models.Model:
    m2m = _split_m2m(model, fields)
    instance = model(**fields)
    instance.full_clean()
    instance.save()
    for name, values in m2m.items():
        getattr(instance, name).set(values)
    changelog_record(action="create", instances=[instance])
    return instance


@transaction.atomic
def model_update(instance: models.Model, /, **fields: Any) -> models.Model:
    before = changelog_snapshot([instance])
    m2m = _split_m2m(type(instance), fields)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    for name, values in m2m.items():
        getattr(instance, name).set(values)
    changelog_record(action="update", instances=[instance], before=before)
    return instance


@transaction.atomic
def model_delete(*, instance: models.Model) -> None:
    model_bulk_delete(instances=[instance])


@transaction.atomic
def model_bulk_delete(*, instances: Sequence[models.Model]) -> None:
    """Delete ``instances`` (of one model) and every row their delete reaches, each logged
    and vetted by the change log's guards: the rows whose reference it clears (``SET_NULL``
    and the like: logged as updates, with the values the delete gives them), the rows it
    cascades to, then the instances themselves (as the database holds them). One
    collection (Django's ``Collector``) both logs and deletes: a fixed number of queries
    per relation whatever the number of rows.

    A cleared reference that is derived (a prefix's parent, rebuilt by its service) is
    written but not logged on its own, nor is one of a row the delete removes anyway. Rows
    of models that are not change-logged (``CHANGELOGGED = False``: a run's steps, archived
    configs; Django's own through tables) are deleted or updated without a log row."""
    if not instances:
        return
    origin = type(instances[0])
    using = router.db_for_write(origin)
    collector = Collector(using=using, origin=instances[0])
    try:
        collector.collect(list(instances))
    except (models.ProtectedError, models.RestrictedError) as error:
        blocking = sorted(_blocking_objects(error), key=lambda obj: (type(obj).__name__, obj.pk))
        named = str(instances[0]) if len(instances) == 1 else f"{len(instances)} objects"
        raise ApplicationError(
            f"{named} {'is' if len(instances) == 1 else 'are'} still used by other objects",
            extra={"protected": sorted(str(obj) for obj in blocking[:5])},
        ) from None
    deletes = _collected_deletes(collector, origin)
    deleted = {(model, row.pk) for model, rows in deletes for row in rows}
    _collected_updates_record(collector, deleted)
    for _model, rows in deletes:
        changelog_record(action="delete", instances=rows)
    _collected_delete_run(collector)


def _blocking_objects(error: Exception) -> Iterable[models.Model]:
    if isinstance(error, models.ProtectedError):
        return error.protected_objects
    return error.restricted_objects


def _logged(model: type[models.Model]) -> bool:
    return bool(getattr(model, "CHANGELOGGED", False))


def _collected_updates_record(collector: Collector, deleted: set[tuple[type, Any]]) -> None:
    """Log the rows a collected delete updates instead of deleting, with their new values.
    A row whose only change is to derived (non-editable) fields is not logged, nor read:
    the delete updates it with one statement (a deleted prefix's children, re-parented by
    its service)."""
    updates: dict[tuple[type, Any], tuple[models.Model, dict[str, Any]]] = {}
    pending = sorted(collector.field_updates.items(), key=lambda item: not item[0][0].editable)
    for (field, value), batches in pending:
        if not _logged(field.model):
            continue
        for batch in batches:
            unread = isinstance(batch, models.QuerySet) and batch._result_cache is None
            if not field.editable and unread:
                continue
            for row in batch:  # a queryset is read here, then updated by primary key
                key = (type(row), row.pk)
                if key in deleted:
                    continue
                if field.editable or key in updates:
                    updates.setdefault(key, (row, {}))[1][field.attname] = value
    by_model: dict[type, list[tuple[models.Model, dict[str, Any]]]] = defaultdict(list)
    for row, values in updates.values():
        by_model[type(row)].append((row, values))
    for pairs in by_model.values():
        rows = _whole([row for row, _values in pairs])
        before = changelog_snapshot(rows)
        for row, (_collected, values) in zip(rows, pairs, strict=True):
            for attname, value in values.items():
                setattr(row, attname, value)
        changelog_record(action="update", instances=rows, before=before)


def _whole(rows: list[models.Model], *, fresh: bool = False) -> list[models.Model]:
    """``rows`` with every field loaded: the collector reads the rows it deletes or updates
    with only their keys (``.only``); they are read again at once, not a field at a time.
    ``fresh``: read again in any case (rows the caller handed over may be stale)."""
    if not rows or not (fresh or any(row.get_deferred_fields() for row in rows)):
        return rows
    model = type(rows[0])
    found = model._base_manager.using(rows[0]._state.db).in_bulk([row.pk for row in rows])
    return [found.get(row.pk, row) for row in rows]


def _collected_deletes(
    collector: Collector, origin: type[models.Model]
) -> list[tuple[type, list[models.Model]]]:
    """The logged rows a collected delete removes, by model, the dependent ones first (the
    order the delete runs in); the fast-deleted ones are read here (a query per relation).
    The rows asked for are read again as the database holds them now."""
    found: dict[type, list[models.Model]] = defaultdict(list)
    for queryset in collector.fast_deletes:
        if _logged(queryset.model):
            found[queryset.model].extend(queryset)
    collector.sort()
    for model, rows in collector.data.items():
        if model is origin or _logged(model):
            found[model].extend(sorted(rows, key=lambda row: row.pk))
    return [(model, _whole(rows, fresh=model is origin)) for model, rows in found.items()]


def _collected_delete_run(collector: Collector) -> None:
    """Run a collected delete with one statement per table and per cleared field, whatever
    the number of rows (``Collector.delete`` goes a hundred rows at a time). No turnup model
    listens to delete signals; should one, Django's own delete runs and sends them."""
    listened = any(
        signal.has_listeners(model)
        for model in (*collector.data, *(qs.model for qs in collector.fast_deletes))
        for signal in (signals.pre_delete, signals.post_delete)
    )
    if listened:
        collector.delete()
        return
    using = collector.using
    with transaction.atomic(using=using, savepoint=False):
        for queryset in collector.fast_deletes:
            queryset._raw_delete(using=using)
        for (field, value), batches in collector.field_updates.items():
            manager = field.model._base_manager.using(using)
            pks = set()
            for batch in batches:
                if isinstance(batch, models.QuerySet) and batch._result_cache is None:
                    batch.update(**{field.name: value})
                else:
                    pks.update(row.pk for row in batch)
            if pks:
                manager.filter(pk__in=pks).update(**{field.name: value})
        collector.sort()
        for model, rows in collector.data.items():
            pks = [row.pk for row in rows]
            model._base_manager.using(using).filter(pk__in=pks)._raw_delete(using=using)
    for model, rows in collector.data.items():
        for row in rows:
            setattr(row, model._meta.pk.attname, None)


def _unique_field_sets(model: type[models.Model]) -> list[tuple[str, ...]]:
    sets = [tuple(names) for names in model._meta.unique_together]
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
            if constraint.fields:
                sets.append(tuple(constraint.fields))
    sets += [(f.name,) for f in model._meta.concrete_fields if f.unique and not f.primary_key]
    return sets


def bulk_check_batch_unique(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Refuse a batch that repeats a unique value within itself, naming the second item."""
    for names in _unique_field_sets(model):
        attnames = [model._meta.get_field(name).attname for name in names]
        seen: Counter = Counter()
        for index, instance in enumerate(instances):
            key = tuple(getattr(instance, attname) for attname in attnames)
            if None in key:
                continue
            seen[key] += 1
            if seen[key] > 1:
                raise ApplicationError(
                    "Validation error",
                    extra={
                        "items": {str(index): {names[-1]: [f"repeats {names} within the batch"]}}
                    },
                )


def loaded_relations(instance: models.Model) -> list[str]:
    """Foreign keys whose related object is already attached (so it exists): full_clean can
    skip them instead of running one existence query per row and field."""
    return [
        field.name
        for field in instance._meta.concrete_fields
        if field.is_relation
        and (field.many_to_one or field.one_to_one)
        and field.is_cached(instance)
        and field.get_cached_value(instance) is not None
    ]


def bulk_validate(instances: Sequence[models.Model]) -> None:
    """full_clean every instance without per-row uniqueness queries; name the failing item."""
    errors = {}
    for index, instance in enumerate(instances):
        try:
            instance.full_clean(
                exclude=loaded_relations(instance),
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors[str(index)] = error.message_dict
    if errors:
        raise ApplicationError("Validation error", extra={"items": errors})
    if instances:
        bulk_check_batch_unique(type(instances[0]), instances)


def bulk_insert(model: type[models.Model], instances: list[models.Model]) -> list[models.Model]:
    """bulk_create that turns a clash with existing rows into an error naming the item."""
    try:
        with transaction.atomic():
            created = model.objects.bulk_create(instances)
    except IntegrityError:
        for index, instance in enumerate(instances):
            try:
                instance.validate_unique()
                instance.validate_constraints()
            except ValidationError as error:
                raise ApplicationError(
                    "Validation error", extra={"items": {str(index): error.message_dict}}
                ) from None
        raise
    return created


@transaction.atomic
def model_bulk_create(
    model: type[models.Model], *, items: list[dict[str, Any]]
) -> list[models.Model]:
    instances = [model(**item) for item in items]
    bulk_validate(instances)
    created = bulk_insert(model, instances)
    changelog_record(action="create", instances=created)
    return created
