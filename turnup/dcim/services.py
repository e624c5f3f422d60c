"""Writes of dcim: every rule that needs other rows (rack space, component instantiation,
cable ends, site status transitions) is checked here, under a lock, in one transaction,
and every write leaves change log rows (one insert per batch).

Foreign keys are passed as model instances (what the API serializers hand over).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from turnup.core.changelog import Change, changelog_record, changelog_snapshot
from turnup.core.errors import ApplicationError, ConflictError
from turnup.core.locks import is_deadlock
from turnup.core.services import (
    bulk_check_batch_unique,
    bulk_insert,
    bulk_validate,
    loaded_relations,
    model_bulk_delete,
)
from turnup.dcim import choices, constants
from turnup.dcim.models import (
    Cable,
    ConsolePort,
    ConsolePortTemplate,
    ConsoleServerPort,
    ConsoleServerPortTemplate,
    CredentialProfile,
    Device,
    DeviceType,
    Interface,
    InterfaceTemplate,
    Rack,
    Site,
)
from turnup.events.constants import TOPIC_SITE_STATUS
from turnup.events.services import event_record

Port = Interface | ConsolePort | ConsoleServerPort
PORT_MODELS = (Interface, ConsolePort, ConsoleServerPort)


def _clean(instance: models.Model) -> None:
    """full_clean, minus the existence query of foreign keys whose object is attached
    (uniqueness and constraints are still checked on every field)."""
    errors: dict = {}
    for step in (
        lambda: instance.clean_fields(exclude=loaded_relations(instance)),
        instance.clean,
        instance.validate_unique,
        instance.validate_constraints,
    ):
        try:
            step()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


# -- site status --------------------------------------------------------------------------

# A guard looks at a site about to move to ``to_status`` and returns the reasons to refuse
# (an empty list lets it pass). Apps that know more about a site (checks: preflight errors)
# register theirs in their AppConfig.ready(), so dcim imports none of them.
SiteTransitionGuard = Callable[..., list[str]]
_site_transition_guards: list[SiteTransitionGuard] = []


def site_transition_guard_register(guard: SiteTransitionGuard) -> SiteTransitionGuard:
    """Register ``guard(*, site, to_status) -> list[str]``; usable as a decorator."""
    if guard not in _site_transition_guards:
        _site_transition_guards.append(guard)
    return guard


def site_transition_guard_unregister(guard: SiteTransitionGuard) -> None:
    if guard in _site_transition_guards:
        _site_transition_guards.remove(guard)


def site_transition_check(
    *, site: Site, from_status: str, to_status: str, manual: bool = True
) -> None:
    """Raise unless ``site`` may go from ``from_status`` to ``to_status`` (rules and guards).

    ``manual``: a person asks for it (the default; the admin and a PATCH of the status check
    this way). A person cannot move a site into or out of turning-up: the turn-up engine
    does, when a run starts and when it settles (``choices.SITE_ENGINE_STATUSES``)."""
    allowed = choices.SITE_TRANSITIONS.get(from_status, ())
    if to_status not in allowed:
        raise ApplicationError(
            f"Site {site} cannot go from {from_status} to {to_status}; "
            f"allowed: {', '.join(allowed) or 'none'}",
            extra={"fields": {"status": [f"allowed from {from_status}: {', '.join(allowed)}"]}},
        )
    if manual:
        _site_engine_status_check(site=site, from_status=from_status, to_status=to_status)
    problems = [
        problem
        for guard in list(_site_transition_guards)
        for problem in guard(site=site, to_status=to_status)
    ]
    if problems:
        raise ConflictError(
            f"Site {site} cannot go to {to_status}: {problems[0]}",
            extra={"problems": problems},
        )


def _site_engine_status_check(*, site: Site, from_status: str, to_status: str) -> None:
    if from_status in choices.SITE_ENGINE_STATUSES:
        reason = (
            f"a site {from_status} goes {' or '.join(choices.SITE_TRANSITIONS[from_status])} "
            f"when its turn-up run settles; to stop the turn-up, cancel the run "
            f"(POST /api/runs/{{id}}/cancel/)"
        )
    elif to_status in choices.SITE_ENGINE_STATUSES:
        reason = (
            f"a site goes {to_status} when a turn-up starts: POST /api/sites/{site.pk}/turnup/, "
            f"or retry the failed routers of its last run (POST /api/runs/{{id}}/retry-failed/)"
        )
    else:
        return
    raise ConflictError(
        f"Site {site} cannot be moved from {from_status} to {to_status} by hand: {reason}",
        extra={"fields": {"status": [reason]}},
    )


@transaction.atomic
def site_transition(*, site: Site, to_status: str, manual: bool = False) -> Site:
    """Move ``site`` to ``to_status`` if the transition is allowed and no guard refuses.

    ``manual=True`` when a person asks for it (the API's transition action): moves into
    and out of turning-up are then refused, they belong to the turn-up engine (run start,
    retry and settle call this without ``manual``)."""
    if to_status not in choices.SiteStatus.values:
        raise ApplicationError(
            f"Unknown site status {to_status!r}",
            extra={"fields": {"status": [f"one of {', '.join(choices.SiteStatus.values)}"]}},
        )
    locked = Site.objects.select_for_update().get(pk=site.pk)
    before = changelog_snapshot([locked])
    from_status = locked.status
    site_transition_check(site=locked, from_status=from_status, to_status=to_status, manual=manual)
    locked.status = to_status
    locked.save(update_fields=["status", "updated"])
    changelog_record(action="update", instances=[locked], before=before)
    _site_status_event(site=locked, from_status=from_status)
    site.status, site.updated = locked.status, locked.updated
    return locked


@transaction.atomic
def site_create(**fields: Any) -> Site:
    site = Site(**fields)
    _clean(site)
    site.save()
    changelog_record(action="create", instances=[site])
    _site_status_event(site=site, from_status=None)
    return site


@transaction.atomic
def site_update(*, instance: Site, **fields: Any) -> Site:
    """Update a site; a status change follows the same rules as ``site_transition``."""
    locked = Site.objects.select_for_update().get(pk=instance.pk)
    before = changelog_snapshot([locked])
    to_status = fields.get("status", locked.status)
    if to_status != locked.status:
        site_transition_check(site=locked, from_status=locked.status, to_status=to_status)
    for name, value in fields.items():
        setattr(instance, name, value)
    _clean(instance)
    instance.save()
    changelog_record(action="update", instances=[instance], before=before)
    if instance.status != locked.status:
        _site_status_event(site=instance, from_status=locked.status)
    return instance


def _site_status_event(*, site: Site, from_status: str | None) -> None:
    """Tell other systems (Kafka, through the outbox) that ``site`` changed status (``None``:
    it was just created)."""
    event_record(
        topic=TOPIC_SITE_STATUS,
        key=site.name,
        type="site.status-changed",
        data={
            "site": site.name,
            "site_id": site.pk,
            "status": site.status,
            "previous": from_status,
        },
    )


# -- the design freeze of a site that is turning up ------------------------------------------

# A run pushes the configs it rendered when it started, and its later steps read each router's
# management address and credentials afresh; a design edited half-way would fail routers
# (``unreachable``, ``auth_failed``) or leave the site other than what was pushed. So while a
# site is turning up its design does not change, whoever writes it (API, pages, admin,
# blueprints, CLI): every design write passes through the change log, whose guard this is.
# A model opts in with ``TURNUP_FREEZE_PATHS`` (lookups from the row to the sites it belongs
# to; ``""`` is the site itself) and ``TURNUP_FREEZE_EXEMPT`` (fields that may change anyway:
# statuses, serials, notes none of the configs carry). Fields a person cannot edit (derived:
# a prefix's parent and depth) never count.

FREEZE_SHOWN = 5  # objects named in the refusal


@functools.cache
def _design_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The columns of ``model`` whose change alters the design: editable, not exempt."""
    exempt = set(getattr(model, "TURNUP_FREEZE_EXEMPT", ()))
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in exempt
    )


def _change_counts(change: Change) -> bool:
    """Whether ``change`` alters the design (an update of exempt or derived fields does not;
    one of a model with secrets the change log cannot see always does)."""
    model = type(change.instance)
    if change.before is None or change.after is None or getattr(model, "CHANGELOG_EXCLUDE", ()):
        return True
    before, after = change.before, change.after
    return any(before.get(name) != after.get(name) for name in _design_fields(model))


# the changes that touch each site, by site id, and the lookups still to make:
# (model, path) → row id → changes
Touched = dict[int, list[Change]]
Lookups = dict[tuple[type[models.Model], str], dict[Any, list[Change]]]


def _freeze_references(changes: Sequence[Change]) -> tuple[Touched, Lookups]:
    """What the changes belong to, without a query: the sites named on the rows themselves
    (a move between sites names both), and the lookups still to make."""
    touched: Touched = defaultdict(list)
    lookups: Lookups = defaultdict(lambda: defaultdict(list))
    for change in changes:
        model = type(change.instance)
        for path in model.TURNUP_FREEZE_PATHS:
            if path == "":
                touched[change.instance.pk].append(change)
                continue
            head, _, rest = path.partition("__")
            field = model._meta.get_field(head)
            if not field.concrete:  # a reverse relation: ask the database from this row
                lookups[(model, path)][change.instance.pk].append(change)
                continue
            for state in (change.before, change.after):
                value = state.get(field.attname) if state else None
                if value is None:
                    continue
                if rest:
                    lookups[(field.related_model, rest)][value].append(change)
                else:
                    touched[value].append(change)
    return touched, lookups


def _freeze_resolve(touched: Touched, lookups: Lookups) -> Touched:
    """``touched`` with the lookups made: one query per kind, whatever the number of rows."""
    for (model, path), owners in lookups.items():
        for pk, site_id in model.objects.filter(pk__in=list(owners)).values_list("pk", path):
            if site_id is not None:
                touched[site_id].extend(owners[pk])
    return touched


def _freeze_sites_lock(
    touched: Touched, lookups: Lookups, *, every: bool
) -> dict[int, tuple[str, str]]:
    """{site id: (name, status)} of the sites the changes belong to (of every site when
    ``every``), in one query (the lookups as subqueries).

    On PostgreSQL their rows are locked ``FOR KEY SHARE`` until this write's transaction
    ends. Writers do not wait for each other, but ``run_start`` locks its site's row ``FOR
    UPDATE``, so a write and the start of a run on the same site are one after the other:
    a run that starts during a write waits for it and renders the design with it; a write
    that comes while a run is starting waits and then finds its site turning up. (SQLite
    lets one transaction write at a time, which orders them the same way.)

    A write that already holds a row the starting run must reference (a device it renames:
    the run's steps point at it) would wait for the run while the run waits for it:
    PostgreSQL ends the write, which waited first, and it is refused 409
    (``turnup_starting``) with nothing written."""
    sites = Site.objects.all()
    if not every:
        condition = Q(pk__in=list(touched))
        for (model, path), owners in lookups.items():
            condition |= Q(pk__in=model.objects.filter(pk__in=list(owners)).values(path))
        sites = sites.filter(condition)
    sites = sites.order_by("pk").values_list("pk", "name", "status")
    if connection.vendor != "postgresql":
        return {pk: (name, status) for pk, name, status in sites}
    sql, params = sites.query.sql_with_params()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} FOR KEY SHARE", params)
            return {pk: (name, status) for pk, name, status in cursor.fetchall()}
    except OperationalError as error:
        if not is_deadlock(error):
            raise
        raise ConflictError(
            "A turn-up is starting on a site this write changes: its design does not change "
            "until the run settles or is cancelled (POST /api/runs/{id}/cancel/)",
            extra={"reason": "turnup_starting"},
        ) from None


def _is_default_profile(change: Change) -> bool:
    """The default credential profile (before or after the change) covers every site."""
    return isinstance(change.instance, CredentialProfile) and any(
        state and state.get("is_default") for state in (change.before, change.after)
    )


def _freeze_label(change: Change) -> str:
    instance = change.instance
    if _is_default_profile(change):
        return f"default credential profile {instance}"
    return f"{instance._meta.verbose_name} {instance}"


def site_design_freeze_check(*, action: str, changes: Sequence[Change]) -> None:
    """Refuse (409) a write that changes the design of a site that is turning up.

    No query for rows that belong to no site (an unassigned address, a global pool); one
    (the sites the rows belong to, locked: ``_freeze_sites_lock``) when none of them is
    turning up; one more per kind of lookup (device → site) when one is, to name what is
    refused. The default credential profile counts for every site."""
    counted = [
        change
        for change in changes
        if getattr(type(change.instance), "TURNUP_FREEZE_PATHS", None) and _change_counts(change)
    ]
    touched, lookups = _freeze_references(counted)
    defaults = [change for change in counted if _is_default_profile(change)]
    if not (touched or lookups or defaults):
        return
    sites = _freeze_sites_lock(touched, lookups, every=bool(defaults))
    turning_up = {
        pk: name for pk, (name, status) in sites.items() if status == choices.SiteStatus.TURNING_UP
    }
    if not turning_up:
        return
    touched = _freeze_resolve(touched, lookups)
    for site_id in turning_up:
        touched[site_id].extend(defaults)
    frozen = sorted(
        site_id for site_id, objects in touched.items() if objects and site_id in turning_up
    )
    if not frozen:
        return
    site_id = frozen[0]
    objects = list(dict.fromkeys(_freeze_label(change) for change in touched[site_id]))
    shown = ", ".join(objects[:FREEZE_SHOWN]) + (
        f" and {len(objects) - FREEZE_SHOWN} more" if len(objects) > FREEZE_SHOWN else ""
    )
    raise ConflictError(
        f"Site {turning_up[site_id]} is turning up: its design does not change until the run "
        f"settles or is cancelled (POST /api/runs/{{id}}/cancel/); refused: {action} of {shown}",
        extra={
            "site": turning_up[site_id],
            "action": action,
            "objects": objects,
            "sites": [turning_up[pk] for pk in frozen],
        },
    )


# -- racks --------------------------------------------------------------------------------


@transaction.atomic
def rack_update(*, instance: Rack, **fields: Any) -> Rack:
    """Update a rack; it may not move to another site or shrink below a mounted device."""
    locked = Rack.objects.select_for_update().get(pk=instance.pk)
    before = changelog_snapshot([locked])
    for name, value in fields.items():
        setattr(instance, name, value)
    _clean(instance)
    mounted = list(
        Device.objects.filter(rack=instance, position__isnull=False).select_related("device_type")
    )
    errors = {}
    if instance.site_id != locked.site_id and Device.objects.filter(rack=instance).exists():
        errors["site"] = "A rack with devices cannot move to another site."
    too_high = [d.name for d in mounted if max(d.rack_units(), default=0) > instance.u_height]
    if too_high:
        errors["u_height"] = f"Devices above U{instance.u_height}: {', '.join(too_high)}"
    if errors:
        raise ValidationError(errors)
    instance.save()
    changelog_record(action="update", instances=[instance], before=before)
    return instance


@transaction.atomic
def device_type_update(*, instance: DeviceType, **fields: Any) -> DeviceType:
    """Update a device type; its height and depth are fixed once devices of it are mounted
    (they would change the rack space those devices hold)."""
    locked = DeviceType.objects.select_for_update().get(pk=instance.pk)
    before = changelog_snapshot([locked])
    for name, value in fields.items():
        setattr(instance, name, value)
    _clean(instance)
    changed = [
        name
        for name in ("u_height", "is_full_depth")
        if getattr(instance, name) != getattr(locked, name)
    ]
    if changed and Device.objects.filter(device_type=instance, position__isnull=False).exists():
        raise ValidationError(
            {
                name: "Devices of this type are mounted in racks; unmount them first."
                for name in changed
            }
        )
    instance.save()
    changelog_record(action="update", instances=[instance], before=before)
    return instance


def rack_space_errors(*, devices: Sequence[Device]) -> dict[int, str]:
    """Check the rack space of ``devices`` (in order) against the rest of their racks and
    each other; the racks are locked. Returns the index → reason of every device that does
    not fit. One query for the racks, one for the devices in them."""
    rack_ids = {d.rack_id for d in devices if d.rack_id is not None and d.position is not None}
    if not rack_ids:
        return {}
    list(Rack.objects.select_for_update().filter(pk__in=rack_ids).order_by("pk"))
    own = {d.pk for d in devices if d.pk is not None}
    taken: dict[tuple[int, str, int], str] = {}

    def faces(device: Device) -> tuple[str, ...]:
        if device.device_type.is_full_depth:
            return (choices.RackFace.FRONT, choices.RackFace.REAR)
        return (device.face,)

    existing = (
        Device.objects.filter(rack_id__in=rack_ids, position__isnull=False)
        .exclude(pk__in=own)
        .select_related("device_type")
    )
    for device in existing:
        for face in faces(device):
            for unit in device.rack_units():
                taken[(device.rack_id, face, unit)] = device.name
    errors: dict[int, str] = {}
    for index, device in enumerate(devices):
        if device.rack_id is None or device.position is None:
            continue
        clash = {
            taken[(device.rack_id, face, unit)]
            for face in faces(device)
            for unit in device.rack_units()
            if (device.rack_id, face, unit) in taken
        }
        if clash:
            units = sorted(device.rack_units())
            errors[index] = (
                f"U{units[0]}-U{units[-1]} of rack {device.rack} is taken by "
                f"{', '.join(sorted(clash))}"
            )
            continue
        for face in faces(device):
            for unit in device.rack_units():
                taken[(device.rack_id, face, unit)] = device.name
    return errors


# -- devices ------------------------------------------------------------------------------


def device_components_instantiate(*, devices: Sequence[Device]) -> list[models.Model]:
    """Create every device's ports from its type's templates: three queries for the
    templates and three inserts, whatever the number of devices."""
    type_ids = {device.device_type_id for device in devices}
    templates: dict[type, dict[int, list]] = {}
    for template_model in (InterfaceTemplate, ConsolePortTemplate, ConsoleServerPortTemplate):
        grouped: dict[int, list] = defaultdict(list)
        for template in template_model.objects.filter(device_type_id__in=type_ids):
            grouped[template.device_type_id].append(template)
        templates[template_model] = grouped
    interfaces = [
        Interface(
            device=device,
            name=t.name,
            label=t.label,
            description=t.description,
            type=t.type,
            mgmt_only=t.mgmt_only,
        )
        for device in devices
        for t in templates[InterfaceTemplate][device.device_type_id]
    ]
    console_ports = [
        ConsolePort(
            device=device, name=t.name, label=t.label, description=t.description, type=t.type
        )
        for device in devices
        for t in templates[ConsolePortTemplate][device.device_type_id]
    ]
    server_ports = [
        ConsoleServerPort(
            device=device,
            name=t.name,
            label=t.label,
            description=t.description,
            type=t.type,
            line=t.line,
            tcp_port=constants.REVERSE_TELNET_BASE_PORT + t.line,
        )
        for device in devices
        for t in templates[ConsoleServerPortTemplate][device.device_type_id]
    ]
    created: list[models.Model] = []
    for model, rows in (
        (Interface, interfaces),
        (ConsolePort, console_ports),
        (ConsoleServerPort, server_ports),
    ):
        if rows:
            created += model.objects.bulk_create(rows)
    return created


def _raise_items(errors: dict[int, Any]) -> None:
    if errors:
        raise ApplicationError(
            "Validation error", extra={"items": {str(i): e for i, e in sorted(errors.items())}}
        )


@transaction.atomic
def device_create(**fields: Any) -> Device:
    """Create a device and, in the same transaction, its ports from its type's templates."""
    device = Device(**fields)
    _clean(device)
    errors = rack_space_errors(devices=[device])
    if errors:
        raise ValidationError({"position": errors[0]})
    device.save()
    components = device_components_instantiate(devices=[device])
    changelog_record(action="create", instances=[device, *components])
    return device


@transaction.atomic
def device_bulk_create(*, items: list[dict[str, Any]]) -> list[Device]:
    """Create many devices with their ports, all or nothing, in a bounded number of queries
    (validation, rack space, one insert per table, one change log insert)."""
    devices = [Device(**item) for item in items]
    bulk_validate(devices)
    _raise_items(
        {i: {"position": [reason]} for i, reason in rack_space_errors(devices=devices).items()}
    )
    created = bulk_insert(Device, devices)
    components = device_components_instantiate(devices=created)
    changelog_record(action="create", instances=[*created, *components])
    return created


@transaction.atomic
def device_update(*, instance: Device, **fields: Any) -> Device:
    """Update a device; a move in its rack (or to another) is checked against the others.
    Changing its type does not change its ports."""
    before = changelog_snapshot([instance])
    for name, value in fields.items():
        setattr(instance, name, value)
    _clean(instance)
    errors = rack_space_errors(devices=[instance])
    if errors:
        raise ValidationError({"position": errors[0]})
    instance.save()
    changelog_record(action="update", instances=[instance], before=before)
    return instance


@transaction.atomic
def device_status_set(*, devices: Sequence[Device], status: str) -> list[Device]:
    """Set the status of ``devices`` alone (a turn-up marks the routers it brought up
    active): one UPDATE and one bulk change-log insert whatever their number, no other rule
    to check. Returns the devices that changed; the others are not written."""
    choices.DeviceStatus(status)  # refuses an unknown status
    changed = [device for device in devices if device.status != status]
    if not changed:
        return []
    before = changelog_snapshot(changed)
    now = timezone.now()
    for device in changed:
        device.status, device.updated = status, now
    Device.objects.filter(pk__in=[d.pk for d in changed]).update(status=status, updated=now)
    changelog_record(action="update", instances=changed, before=before)
    return changed


@transaction.atomic
def device_delete(*, instance: Device) -> None:
    device_bulk_delete(instances=[instance])


@transaction.atomic
def device_bulk_delete(*, instances: Sequence[Device]) -> None:
    """Delete devices, their ports and routing, and the cables on their ports, and clear the
    references to them (a BGP session's ``peer_device`` at another site, the addresses of
    their ports): every row logged and vetted by the change log's guards (a device of a site
    that is turning up, or a session of one, refuses the delete). A fixed number of queries
    whatever the number of devices and ports."""
    ids = [device.pk for device in instances]
    cable_ids = set()
    for model in PORT_MODELS:
        cable_ids |= set(
            model.objects.filter(device_id__in=ids, cable__isnull=False).values_list(
                "cable_id", flat=True
            )
        )
    cable_bulk_delete(instances=list(Cable.objects.filter(pk__in=cable_ids)))
    model_bulk_delete(instances=instances)


# -- ports --------------------------------------------------------------------------------


def _port_bulk_create(model: type[models.Model], items: list[dict[str, Any]]) -> list:
    instances = [model(**item) for item in items]
    bulk_validate(instances)
    created = bulk_insert(model, instances)
    changelog_record(action="create", instances=created)
    return created


@transaction.atomic
def interface_bulk_create(*, items: list[dict[str, Any]]) -> list[Interface]:
    """Create many interfaces: one insert, one change log insert, all or nothing."""
    return _port_bulk_create(Interface, items)


@transaction.atomic
def console_port_bulk_create(*, items: list[dict[str, Any]]) -> list[ConsolePort]:
    return _port_bulk_create(ConsolePort, items)


@transaction.atomic
def console_server_port_bulk_create(*, items: list[dict[str, Any]]) -> list[ConsoleServerPort]:
    return _port_bulk_create(ConsoleServerPort, items)


@transaction.atomic
def port_update(*, instance: Port, **fields: Any) -> Port:
    """Update a port; its cable is changed only through the cable services."""
    if "cable" in fields or "cable_end" in fields:
        raise ApplicationError(
            "Validation error",
            extra={"fields": {"cable": ["create or delete the cable instead"]}},
        )
    if "device" in fields and fields["device"].pk != instance.device_id and instance.cable_id:
        raise ValidationError({"device": "A cabled port cannot move to another device."})
    before = changelog_snapshot([instance])
    for name, value in fields.items():
        setattr(instance, name, value)
    _clean(instance)
    instance.save()
    changelog_record(action="update", instances=[instance], before=before)
    return instance


def _write_updates(model, instances: list, names: list[str], now) -> None:
    """Write ``names`` of ``instances``: one UPDATE per distinct set of values when there are
    few (setting one MTU on a thousand ports), else UPDATEs with a CASE per batch."""
    attnames = [model._meta.get_field(name).attname for name in names]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for instance in instances:
        groups[tuple(getattr(instance, attname) for attname in attnames)].append(instance.pk)
    if len(groups) > 10:
        model.objects.bulk_update(instances, [*names, "updated"], batch_size=500)
        return
    for values, pks in groups.items():
        model.objects.filter(pk__in=pks).update(
            **dict(zip(attnames, values, strict=True)), updated=now
        )


@transaction.atomic
def port_bulk_update(*, items: list[tuple[Port, dict[str, Any]]]) -> list[Port]:
    """Update many ports of one kind (``[(port, fields), …]``), all or nothing: validated in
    memory, written with a few UPDATEs and one change log insert. The cable is changed only
    through the cable services."""
    if not items:
        return []
    model = type(items[0][0])
    instances = [instance for instance, _ in items]
    before = changelog_snapshot(instances)
    errors: dict[int, Any] = {}
    names: set[str] = set()
    for index, (instance, fields) in enumerate(items):
        if {"cable", "cable_end"} & set(fields):
            errors[index] = {"cable": ["create or delete the cable instead"]}
            continue
        moved = "device" in fields and fields["device"].pk != instance.device_id
        if moved and instance.cable_id:
            errors[index] = {"device": ["A cabled port cannot move to another device."]}
            continue
        for name, value in fields.items():
            setattr(instance, name, value)
        names |= set(fields)
        try:
            instance.clean_fields(exclude=loaded_relations(instance))
            instance.clean()
        except ValidationError as error:
            errors[index] = error.message_dict
    _raise_items(errors)
    bulk_check_batch_unique(model, instances)
    now = timezone.now()
    for instance in instances:
        instance.updated = now
    if names:
        try:
            with transaction.atomic():
                _write_updates(model, instances, sorted(names), now)
        except IntegrityError:
            for index, instance in enumerate(instances):
                try:
                    instance.validate_unique()
                    instance.validate_constraints()
                except ValidationError as error:
                    _raise_items({index: error.message_dict})
            raise
    changelog_record(action="update", instances=instances, before=before)
    return instances


@transaction.atomic
def port_delete(*, instance: Port) -> None:
    port_bulk_delete(instances=[instance])


@transaction.atomic
def port_bulk_delete(*, instances: Sequence[Port]) -> None:
    """Delete ports (of one kind) and the cables on them; the addresses of a deleted
    interface stay in the plan, unassigned."""
    model = type(instances[0]) if instances else Interface
    cable_ids = model.objects.filter(
        pk__in=[port.pk for port in instances], cable__isnull=False
    ).values_list("cable_id", flat=True)
    cable_bulk_delete(instances=list(Cable.objects.filter(pk__in=list(cable_ids))))
    model_bulk_delete(instances=instances)


# -- cables -------------------------------------------------------------------------------

CABLE_PAIRS = {
    (Interface, Interface),
    (ConsolePort, ConsoleServerPort),
    (ConsoleServerPort, ConsolePort),
}


def _port_label(port: Port) -> str:
    return f"{type(port).__name__} {port.device.name} {port.name}"


def _cable_errors(a_end: Port, b_end: Port, batch_ends: set) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if (type(a_end), type(b_end)) not in CABLE_PAIRS:
        errors["b_terminations"] = [
            f"{type(a_end).__name__} cannot be cabled to {type(b_end).__name__} "
            "(interface to interface, console port to console-server port)"
        ]
        return errors
    if a_end.device_id == b_end.device_id:
        errors["b_terminations"] = [f"both ends are on device {a_end.device.name}"]
    for side, end in (("a_terminations", a_end), ("b_terminations", b_end)):
        if end.cable_id is not None:
            errors.setdefault(side, []).append(
                f"{_port_label(end)} is already cabled (cable {end.cable_id})"
            )
        elif (type(end), end.pk) in batch_ends:
            errors.setdefault(side, []).append(f"{_port_label(end)} is cabled twice in the batch")
        if isinstance(end, Interface) and end.type in choices.VIRTUAL_INTERFACE_TYPES:
            errors.setdefault(side, []).append(f"{_port_label(end)} is virtual")
    return errors


def _lock_ends(pairs: Iterable[tuple[Port, Port]]) -> dict[tuple[type, int], Port]:
    """Re-read every end with a row lock (one query per port kind): the cable state checked
    is the state committed."""
    ids: dict[type, set[int]] = defaultdict(set)
    for a_end, b_end in pairs:
        ids[type(a_end)].add(a_end.pk)
        ids[type(b_end)].add(b_end.pk)
    locked = {}
    for model, pks in ids.items():
        for port in (
            model.objects.select_for_update(of=("self",))
            .select_related("device")
            .filter(pk__in=pks)
            .order_by("pk")
        ):
            locked[(model, port.pk)] = port
    return locked


@transaction.atomic
def cable_bulk_create(*, items: list[dict[str, Any]]) -> list[Cable]:
    """Create cables; each item has ``a_end`` and ``b_end`` (ports) and cable fields.

    All or nothing; an error names the item and the end. An end can be cabled once, both ends
    must be compatible kinds (interface↔interface, console port↔console-server port) and on
    different devices.
    """
    pairs = [(item["a_end"], item["b_end"]) for item in items]
    locked = _lock_ends(pairs)
    errors: dict[int, Any] = {}
    batch_ends: set[tuple[type, int]] = set()
    resolved = []
    for index, (a_end, b_end) in enumerate(pairs):
        a_end = locked.get((type(a_end), a_end.pk), a_end)
        b_end = locked.get((type(b_end), b_end.pk), b_end)
        problems = _cable_errors(a_end, b_end, batch_ends)
        if problems:
            errors[index] = problems
        batch_ends |= {(type(a_end), a_end.pk), (type(b_end), b_end.pk)}
        resolved.append((a_end, b_end))
    _raise_items(errors)
    cables = [
        Cable(**{k: v for k, v in item.items() if k not in ("a_end", "b_end")}) for item in items
    ]
    bulk_validate(cables)
    cables = Cable.objects.bulk_create(cables)
    before = changelog_snapshot([end for pair in resolved for end in pair])
    by_model: dict[type, list[Port]] = defaultdict(list)
    now = timezone.now()
    for cable, (a_end, b_end) in zip(cables, resolved, strict=True):
        for end, side in ((a_end, choices.CableEnd.A), (b_end, choices.CableEnd.B)):
            end.cable, end.cable_end, end.updated = cable, side, now
            by_model[type(end)].append(end)
    for model, ends in by_model.items():
        model.objects.bulk_update(ends, ["cable", "cable_end", "updated"])
    for (a_given, b_given), (a_end, b_end) in zip(pairs, resolved, strict=True):
        for given, end in ((a_given, a_end), (b_given, b_end)):
            given.cable, given.cable_end = end.cable, end.cable_end
    changelog_record(action="create", instances=cables)
    ends = [end for pair in resolved for end in pair]
    changelog_record(action="update", instances=ends, before=before)
    return cables


def cable_create(*, a_end: Port, b_end: Port, **fields: Any) -> Cable:
    """Create one cable between ``a_end`` and ``b_end`` (see ``cable_bulk_create``)."""
    try:
        return cable_bulk_create(items=[{"a_end": a_end, "b_end": b_end, **fields}])[0]
    except ApplicationError as error:
        item = error.extra.get("items", {}).get("0")
        if item is None:
            raise
        raise ApplicationError(
            next(iter(next(iter(item.values())))), extra={"fields": item}
        ) from None


@transaction.atomic
def cable_update(*, instance: Cable, **fields: Any) -> Cable:
    """Update a cable's own fields (status, label, …); its ends do not change."""
    if "a_end" in fields or "b_end" in fields:
        raise ApplicationError(
            "Validation error",
            extra={"fields": {"a_terminations": ["delete the cable and create a new one"]}},
        )
    before = changelog_snapshot([instance])
    for name, value in fields.items():
        setattr(instance, name, value)
    _clean(instance)
    instance.save()
    changelog_record(action="update", instances=[instance], before=before)
    return instance


@transaction.atomic
def cable_delete(*, instance: Cable) -> None:
    cable_bulk_delete(instances=[instance])


@transaction.atomic
def cable_bulk_delete(*, instances: Sequence[Cable]) -> None:
    """Delete cables and free both ends of each: one update per kind of port."""
    if not instances:
        return
    ids = [cable.pk for cable in instances]
    ends_by_model = {model: list(model.objects.filter(cable_id__in=ids)) for model in PORT_MODELS}
    changelog_record(action="delete", instances=list(instances))
    for model, ends in ends_by_model.items():
        if not ends:
            continue
        before = changelog_snapshot(ends)
        model.objects.filter(pk__in=[end.pk for end in ends]).update(cable=None, cable_end="")
        for end in ends:
            end.cable, end.cable_end = None, ""
        changelog_record(action="update", instances=ends, before=before)
    Cable.objects.filter(pk__in=ids).delete()


def cable_ends(cable: Cable) -> tuple[Port | None, Port | None]:
    """The A and B end of a cable (using prefetched ports when there are)."""
    a_end = b_end = None
    for end in (
        *cable.interfaces.all(),
        *cable.console_ports.all(),
        *cable.console_server_ports.all(),
    ):
        if end.cable_end == choices.CableEnd.A:
            a_end = end
        else:
            b_end = end
    return a_end, b_end


# -- credentials --------------------------------------------------------------------------


def _keep_unset_secrets(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in fields.items()
        if not (name in CredentialProfile.SECRET_FIELDS and value is None)
    }


@transaction.atomic
def credential_profile_create(**fields: Any) -> CredentialProfile:
    """Create a credential profile; its secrets are stored encrypted."""
    profile = CredentialProfile(**_keep_unset_secrets(fields))
    _clean(profile)
    profile.save()
    changelog_record(action="create", instances=[profile])
    return profile


@transaction.atomic
def credential_profile_update(*, instance: CredentialProfile, **fields: Any) -> CredentialProfile:
    """Update a profile; a secret passed as ``None`` keeps its value, ``""`` clears it."""
    before = changelog_snapshot([instance])
    for name, value in _keep_unset_secrets(fields).items():
        setattr(instance, name, value)
    _clean(instance)
    instance.save()
    changelog_record(action="update", instances=[instance], before=before)
    return instance
