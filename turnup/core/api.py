"""API plumbing shared by every app: pagination, the one JSON error shape, brief and nested
serializers, and the viewset whose writes go through services (single and bulk)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.views import defaults
from rest_framework import exceptions, routers, serializers, status, viewsets
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from turnup.core import services as generic
from turnup.core.context import bind_actor, unbind_actor
from turnup.core.errors import ApplicationError
from turnup.core.filters import SearchFilterSet
from turnup.core.models import ObjectChange
from turnup.core.validation import id_value


def _django_validation_extra(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return {"fields": error.message_dict}
    return {"fields": {"non_field_errors": error.messages}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn every handled error into ``{"message": str, "extra": dict}``."""
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"message": "Validation error", "extra": _django_validation_extra(exc)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": "Validation error", "extra": {"fields": exc.detail}}
    else:
        detail = response.data.get("detail", str(exc)) if isinstance(response.data, dict) else exc
        response.data = {"message": str(detail), "extra": {}}
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The project's 404 handler (``handler404``): under ``/api/`` a path no route matches
    (``/api/sites/abc/turnup/``) answers the API's JSON shape, like a missing object does;
    elsewhere Django's page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"message": "Not found.", "extra": {"path": request.path}},
            status=status.HTTP_404_NOT_FOUND,
        )
    return defaults.page_not_found(request, exception)


def api_url_name(model) -> str:
    """The route name of a model's detail endpoint: ``<app_label>-<model_name>-detail``."""
    return f"{model._meta.app_label}-{model._meta.model_name}-detail"


_PK = "__pk__"


def object_url(obj, context: dict | None = None) -> str | None:
    """The API URL of ``obj`` (absolute when the context has a request). The URL is reversed
    once per model and response, then filled in per row: reverse() per row is a large part of
    rendering a 1,000-row page."""
    context = context if context is not None else {}
    cache = context.setdefault("_url_templates", {}) if context else {}
    model = type(obj)
    if model not in cache:
        try:
            path = reverse(api_url_name(model), kwargs={"pk": _PK})
        except NoReverseMatch:
            path = None
        request = context.get("request")
        cache[model] = request.build_absolute_uri(path) if request and path else path
    template = cache[model]
    return template.replace(_PK, str(obj.pk)) if template else None


class BulkListSerializer(serializers.ListSerializer):
    """Loads every id a nested field refers to with one query per field before validating."""

    def to_internal_value(self, data):
        if isinstance(data, list):
            cache = self.context.setdefault("_pk_cache", {})
            for name, field in self.child.fields.items():
                if isinstance(field, NestedPrimaryKeyRelatedField) and not field.read_only:
                    ids = {
                        NestedPrimaryKeyRelatedField.pk_of(item.get(name))
                        for item in data
                        if isinstance(item, dict) and item.get(name) is not None
                    }
                    ids.discard(None)
                    if ids:
                        found = field.get_queryset().in_bulk(ids)
                        cache.setdefault(field.get_queryset().model, {}).update(found)
        return super().to_internal_value(data)

    def run_child_validation(self, data):
        # A bulk update validates every item against its own row with one child serializer
        # (fields built once), not one serializer per item.
        instances = self.context.get("_bulk_instances")
        if instances is not None and isinstance(data, dict):
            self.child.instance = instances.get(NestedPrimaryKeyRelatedField.pk_of(data.get("id")))
            self.child.initial_data = data
        return super().run_child_validation(data)


_FIELD_PROTOTYPES: dict[tuple[type, bool], dict[str, serializers.Field]] = {}


def _fresh_field(prototype: serializers.Field) -> serializers.Field:
    """An unbound copy of a never-bound field: its own attributes (binding sets them), the
    configuration shared (validators, choices, queryset — read, never changed, and a
    queryset is cloned on use). A field holding another field or serializer (a list's
    child) is copied whole, DRF's way: the inner one gets bound too."""
    configuration = (*prototype._args, *prototype._kwargs.values())
    if any(isinstance(value, serializers.Field) for value in configuration):
        return copy.deepcopy(prototype)
    return copy.copy(prototype)


class BriefModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer with ``url`` and ``display``, and a brief form (``Meta.brief_fields``)."""

    url = serializers.SerializerMethodField()
    display = serializers.SerializerMethodField()

    @classmethod
    def many_init(cls, *args, **kwargs):
        kwargs["child"] = cls(*args, **{k: v for k, v in kwargs.items() if k != "many"})
        list_kwargs = {
            key: value
            for key, value in kwargs.items()
            if key in serializers.LIST_SERIALIZER_KWARGS or key == "child"
        }
        return BulkListSerializer(*args, **list_kwargs)

    def get_url(self, obj) -> str | None:
        return object_url(obj, self.context)

    def get_display(self, obj) -> str:
        return str(obj)

    def get_unique_together_validators(self):
        # In a bulk request the database constraint (and the service) decide, without a query
        # per item; a single write still gets the field-level message from the validator.
        if isinstance(self.parent, serializers.ListSerializer):
            return []
        return super().get_unique_together_validators()

    def get_fields(self):
        # ModelSerializer inspects the model and builds every field again for each serializer
        # (a single-object answer spends more on that than on its SQL); the built fields are
        # kept per class and form as prototypes, and each serializer gets fresh copies.
        brief = bool(self.context.get("brief"))
        key = (type(self), brief)
        prototypes = _FIELD_PROTOTYPES.get(key)
        if prototypes is None:
            prototypes = super().get_fields()
            if brief:
                names = getattr(self.Meta, "brief_fields", ("id", "url", "display"))
                prototypes = {name: f for name, f in prototypes.items() if name in names}
            _FIELD_PROTOTYPES[key] = prototypes
        return {name: _fresh_field(field) for name, field in prototypes.items()}

    def to_representation(self, instance):
        # DRF's loop, with the lookup planned once per serializer (a list's child serves the
        # whole page): a field showing one column of the model reads it with one getattr
        # instead of DRF's generic lookup (source path, callables, exceptions) per field and
        # row — about a tenth of rendering a 1,000-row interface page.
        if not isinstance(instance, self.Meta.model):
            return super().to_representation(instance)
        plan = self.__dict__.get("_representation_plan")
        if plan is None:
            plan = self._representation_plan = self._plan_representation()
        data = {}
        for name, column, field in plan:
            if column is not None:
                value = getattr(instance, column)
            else:
                try:
                    value = field.get_attribute(instance)
                except serializers.SkipField:
                    continue
                if isinstance(value, PKOnlyObject):
                    data[name] = None if value.pk is None else field.to_representation(value)
                    continue
            data[name] = None if value is None else field.to_representation(value)
        return data

    def _plan_representation(self) -> list[tuple[str, str | None, serializers.Field]]:
        """(name, column or None, field) per readable field: a column when the field's source
        is one plain (non-relation) column of the model, so reading it can neither call
        anything nor fail; relations, methods and properties take DRF's lookup."""
        columns = {
            model_field.attname
            for model_field in self.Meta.model._meta.concrete_fields
            if not model_field.is_relation
        }
        plan = []
        for field in self._readable_fields:
            source = field.source_attrs
            column = source[0] if len(source) == 1 and source[0] in columns else None
            plan.append((field.field_name, column, field))
        return plan


def _unwrap_id(value):
    """The id sent as ``n`` or ``{"id": n}``."""
    return value.get("id") if isinstance(value, dict) else value


class NestedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """Accepts an id (or ``{"id": n}``); renders the related object's brief form."""

    def __init__(self, *, serializer: type[serializers.Serializer], **kwargs):
        self.brief_serializer = serializer
        super().__init__(**kwargs)

    @staticmethod
    def pk_of(value) -> int | None:
        """The id in ``value`` (``n`` or ``{"id": n}``); None when it is not a valid id."""
        try:
            return id_value(_unwrap_id(value))
        except ValueError:
            return None

    def use_pk_only_optimization(self) -> bool:
        return False

    def to_internal_value(self, data):
        try:
            pk = id_value(_unwrap_id(data))
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None
        cache = self.context.get("_pk_cache", {}).get(self.get_queryset().model)
        if cache is not None and pk in cache:
            return cache[pk]
        return super().to_internal_value(pk)

    def to_representation(self, value):
        # One rendering per related object and response: a page of 1,000 interfaces of 40
        # devices renders 40 device briefs, not 1,000 serializers.
        cache = self.context.setdefault("_brief_cache", {}) if self.context else {}
        key = (self.brief_serializer, type(value), value.pk)
        if key not in cache:
            cache[key] = self._render(value)
        return cache[key]

    def _render(self, value) -> dict[str, Any]:
        columns = _flat_brief_columns(self.brief_serializer)
        if columns is None:
            context = {**self.context, "brief": True}
            return self.brief_serializer(value, context=context).data
        data = {"id": value.pk, "url": object_url(value, self.context), "display": str(value)}
        for name in columns:
            data[name] = getattr(value, name)
        return data


_FLAT_COLUMNS: dict[type, tuple[str, ...] | None] = {}


def _flat_brief_columns(serializer: type[serializers.Serializer]) -> tuple[str, ...] | None:
    """The plain columns a brief serializer shows besides id/url/display, when all of them are
    plain (non-relation, non-choice) columns of its model: then a nested object is rendered
    straight from the row, without a serializer. None when the serializer must run."""
    if serializer not in _FLAT_COLUMNS:
        meta = serializer.Meta
        names = [n for n in meta.fields if n not in ("id", "url", "display")]
        plain = []
        for name in names:
            try:
                field = meta.model._meta.get_field(name)
            except Exception:  # noqa: BLE001 - a computed field: the serializer must run
                plain = None
                break
            if field.is_relation or field.choices or name in serializer._declared_fields:
                plain = None
                break
            plain.append(name)
        _FLAT_COLUMNS[serializer] = tuple(plain) if plain is not None else None
    return _FLAT_COLUMNS[serializer]


def nested(serializer: type[serializers.Serializer], model, **kwargs) -> Any:
    """A foreign key that takes an id and renders ``serializer``'s brief object."""
    return NestedPrimaryKeyRelatedField(
        serializer=serializer, queryset=model.objects.all(), **kwargs
    )


def optional(serializer: type[serializers.Serializer], model) -> Any:
    """A nullable foreign key (see ``nested``)."""
    return nested(serializer, model, required=False, allow_null=True)


class LabeledChoiceField(serializers.ChoiceField):
    """A choice rendered as ``{"value": …, "label": …}`` (NetBox's shape); input is the value
    or that object."""

    def to_representation(self, value):
        if value in ("", None):
            return None
        return {"value": value, "label": self.choices.get(value, str(value))}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = data.get("value")
        return super().to_internal_value(data)


class TimestampField(serializers.DateTimeField):
    """ISO 8601 in UTC, as DRF renders it under TIME_ZONE=UTC, without its per-value time
    zone lookups (a third of the cost of rendering a 1,000-row page)."""

    def to_representation(self, value):
        if not value:
            return None
        text = value.astimezone(dt.UTC).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


class NetBoxStyleSerializer(BriefModelSerializer):
    """The source-of-truth apps' serializer: choices as ``{"value", "label"}``, timestamps in
    UTC, ``last_updated`` as NetBox names it."""

    serializer_choice_field = LabeledChoiceField
    serializer_field_mapping = {
        **BriefModelSerializer.serializer_field_mapping,
        models.DateTimeField: TimestampField,
    }
    last_updated = TimestampField(source="updated", read_only=True)


class TurnupModelViewSet(viewsets.ModelViewSet):
    """A ModelViewSet whose writes go through services, with brief mode and bulk writes.

    A JSON list posted (created), put/patched (updated, each item carries its ``id``) or sent
    with DELETE (``[{"id": 1}, …]``) to the list URL is handled all-or-nothing in one
    transaction; an error names the item's index and field.
    """

    create_service = None
    update_service = None
    delete_service = None
    bulk_create_service = None
    # Optional: (*, items: list[tuple[instance, dict]]) -> list; else update_service per item.
    bulk_update_service = None
    # Optional: (*, instances: list) -> None, set beside a delete_service; else the generic
    # bulk delete (its queries a fixed number whatever the number of items).
    bulk_delete_service = None
    brief_queryset = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._actor_token = bind_actor(request.user)

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_actor_token", None)
        if token is not None:
            unbind_actor(token)
            self._actor_token = None
        return super().finalize_response(request, response, *args, **kwargs)

    @property
    def brief(self) -> bool:
        return self.request.query_params.get("brief", "").lower() in ("1", "true", "yes")

    def get_queryset(self):
        if self.brief and self.brief_queryset is not None and self.action == "list":
            return self.brief_queryset.all()
        return super().get_queryset()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "brief": self.brief}

    # -- services -------------------------------------------------------------------------
    def _model(self):
        return self.get_queryset().model

    def _create(self, data: dict[str, Any]):
        if self.create_service is not None:
            return type(self).create_service(**data)
        return generic.model_create(self._model(), **data)

    def _update(self, instance, data: dict[str, Any]):
        if self.update_service is not None:
            return type(self).update_service(instance=instance, **data)
        return generic.model_update(instance, **data)

    def _delete(self, instance) -> None:
        if self.delete_service is not None:
            type(self).delete_service(instance=instance)
        else:
            generic.model_delete(instance=instance)

    def _bulk_delete(self, instances: list) -> None:
        if self.bulk_delete_service is not None:
            type(self).bulk_delete_service(instances=instances)
        else:
            generic.model_bulk_delete(instances=instances)

    def _bulk_create(self, items: list[dict[str, Any]]):
        if self.bulk_create_service is not None:
            return type(self).bulk_create_service(items=items)
        return generic.model_bulk_create(self._model(), items=items)

    def perform_create(self, serializer):
        serializer.instance = self._create(dict(serializer.validated_data))

    def perform_update(self, serializer):
        serializer.instance = self._update(serializer.instance, dict(serializer.validated_data))

    def perform_destroy(self, instance):
        self._delete(instance)

    # -- bulk -----------------------------------------------------------------------------
    @staticmethod
    def _items_error(errors: list[dict] | dict) -> ApplicationError:
        pairs = errors.items() if isinstance(errors, dict) else enumerate(errors)
        return ApplicationError(
            "Validation error", extra={"items": {str(i): e for i, e in pairs if e}}
        )

    def create(self, request, *args, **kwargs):
        if not isinstance(request.data, list):
            return super().create(request, *args, **kwargs)
        serializer = self.get_serializer(data=request.data, many=True)
        if not serializer.is_valid():
            raise self._items_error(serializer.errors)
        with transaction.atomic():
            created = self._bulk_create([dict(item) for item in serializer.validated_data])
        data = self.get_serializer(created, many=True).data
        return Response(data, status=status.HTTP_201_CREATED)

    def _bulk_instances(self, items: Any) -> dict[int, Any]:
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApplicationError(
                "Validation error",
                extra={"fields": {"non_field_errors": ["expected a list of objects"]}},
            )
        ids, invalid = [], {}
        for index, item in enumerate(items):
            try:
                ids.append(id_value(_unwrap_id(item["id"])))
            except KeyError:
                invalid[str(index)] = {"id": ["required"]}
            except ValueError as error:
                invalid[str(index)] = {"id": [str(error)]}
        if invalid:
            raise ApplicationError("Validation error", extra={"items": invalid})
        found = self.filter_queryset(self.get_queryset()).in_bulk(ids)
        unknown = {
            str(i): {"id": [f"no object with id {pk}"]}
            for i, pk in enumerate(ids)
            if pk not in found
        }
        if unknown:
            raise ApplicationError("Validation error", extra={"items": unknown})
        return found

    def bulk_update(self, request, *args, partial: bool = False, **kwargs):
        items = request.data
        instances = self._bulk_instances(items)
        context = {**self.get_serializer_context(), "_bulk_instances": instances}
        serializer = self.get_serializer(data=items, many=True, partial=partial, context=context)
        if not serializer.is_valid():
            raise self._items_error(serializer.errors)
        pairs = [
            (instances[NestedPrimaryKeyRelatedField.pk_of(item["id"])], dict(data))
            for item, data in zip(items, serializer.validated_data, strict=True)
        ]
        with transaction.atomic():
            if self.bulk_update_service is not None:
                updated = type(self).bulk_update_service(items=pairs)
            else:
                updated = []
                for index, (instance, data) in enumerate(pairs):
                    try:
                        updated.append(self._update(instance, data))
                    except DjangoValidationError as error:
                        fields = _django_validation_extra(error)["fields"]
                        raise ApplicationError(
                            "Validation error", extra={"items": {str(index): fields}}
                        ) from None
        return Response(self.get_serializer(updated, many=True).data)

    def bulk_partial_update(self, request, *args, **kwargs):
        return self.bulk_update(request, *args, partial=True, **kwargs)

    def bulk_destroy(self, request, *args, **kwargs):
        instances = self._bulk_instances(request.data)
        with transaction.atomic():
            self._bulk_delete(list(instances.values()))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BulkRouter(routers.DefaultRouter):
    """A router whose list route also takes PUT/PATCH/DELETE (bulk), and whose route names
    are ``<app_label>-<model_name>-list/-detail`` so brief objects can link to them."""

    include_root_view = False
    routes = list(routers.DefaultRouter.routes)
    routes[0] = routers.Route(
        url=r"^{prefix}{trailing_slash}$",
        mapping={
            "get": "list",
            "post": "create",
            "put": "bulk_update",
            "patch": "bulk_partial_update",
            "delete": "bulk_destroy",
        },
        name="{basename}-list",
        detail=False,
        initkwargs={"suffix": "List"},
    )

    def get_default_basename(self, viewset):
        model = viewset.queryset.model
        return f"{model._meta.app_label}-{model._meta.model_name}"


class ObjectChangeSerializer(serializers.ModelSerializer):
    changed_object_type = serializers.SerializerMethodField()

    class Meta:
        model = ObjectChange
        fields = (
            "id",
            "time",
            "user",
            "user_name",
            "request_id",
            "action",
            "changed_object_type",
            "changed_object_id",
            "object_repr",
            "prechange_data",
            "postchange_data",
        )

    def get_changed_object_type(self, obj) -> str:
        return f"{obj.changed_object_type.app_label}.{obj.changed_object_type.model}"


class ObjectChangeFilterSet(SearchFilterSet):
    changed_object_type = django_filters.CharFilter(method="filter_type")
    time_after = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    time_before = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lte")

    class Meta:
        model = ObjectChange
        fields = ("action", "user_name", "request_id", "changed_object_id")
        search_fields = ("object_repr", "user_name", "request_id")

    def filter_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        return queryset.filter(
            changed_object_type__app_label=app_label, changed_object_type__model=model
        )


class ObjectChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """The change log, newest first: ``/api/core/object-changes/``."""

    queryset = ObjectChange.objects.select_related("changed_object_type")
    serializer_class = ObjectChangeSerializer
    filterset_class = ObjectChangeFilterSet


router = BulkRouter()
router.register("core/object-changes", ObjectChangeViewSet, basename="core-objectchange")
urlpatterns = router.urls
