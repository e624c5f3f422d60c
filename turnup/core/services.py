"""Generic write services for models without rules of their own.

Apps with rules write their own ``<entity>_create`` etc. and call ``changelog_record``
themselves; these defaults keep simple models to the same contract: full_clean, save,
change log, all in one transaction.

The model (or instance) is positional-only, so a model field of the same name (``DeviceType``
has a field called ``model``) is just one more of ``**fields``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

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
    changelog_record(action="delete", instances=[instance])
    try:
        instance.delete()
    except models.ProtectedError as error:
        blocking = sorted({str(obj) for obj in error.protected_objects})[:5]
        raise ApplicationError(
            f"{instance} is still used by other objects",
            extra={"protected": blocking},
        ) from None


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
