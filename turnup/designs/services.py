"""Import a whole site design from one YAML document: all or nothing, errors by line.

The document is the one ``site_document_export`` writes (``kind: turnup/site-design/v1``).
The document's shape (keys and value types, ``designs/schema.py``) and its references to
existing rows (roles, device types, platforms, VRFs) are checked before anything is written.
Every row is then written through the owning app's services (devices get their ports from
their type, cables are checked end by end, addresses are checked for clashes), so an import
obeys the same rules as the API; the whole import is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.errors import ApplicationError
from turnup.core.services import model_bulk_create
from turnup.core.yamldoc import Path, YamlDocument, yaml_load
from turnup.dcim import services as dcim_services
from turnup.dcim.models import (
    Device,
    DeviceRole,
    DeviceType,
    Platform,
    Rack,
    Site,
)
from turnup.designs.schema import document_shape_errors
from turnup.designs.selectors import DOCUMENT_KIND, PORT_KINDS
from turnup.ipam import services as ipam_services
from turnup.ipam.models import VRF

PORT_FIELDS = {
    "interfaces": ("type", "enabled", "mtu", "mgmt_only", "description"),
    "console_ports": (),
    "console_server_ports": ("line", "tcp_port", "baud", "access_method"),
}
PORT_CREATE = {
    "interfaces": dcim_services.interface_bulk_create,
    "console_ports": dcim_services.console_port_bulk_create,
    "console_server_ports": dcim_services.console_server_port_bulk_create,
}


class DocumentErrors(ApplicationError):
    """The document cannot be imported; ``extra["errors"]`` lists line, path and reason."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0]
        where = f"line {first['line']}: " if first["line"] else ""
        super().__init__(
            f"{where}{first['path']}: {first['reason']}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            extra={"errors": errors},
        )


def _lookup(model, field: str, values: set[str]) -> dict[str, Any]:
    return {getattr(obj, field): obj for obj in model.objects.filter(**{f"{field}__in": values})}


def _run(doc: YamlDocument, paths: list[Path], write: Callable[[], Any]) -> Any:
    """Run a service; turn its item or field errors into document errors at ``paths``."""
    try:
        return write()
    except ValidationError as error:
        fields = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        raise DocumentErrors(
            [doc.error((*paths[0], f) if f else paths[0], "; ".join(m)) for f, m in fields.items()]
        ) from None
    except ApplicationError as error:
        items = error.extra.get("items") or {}
        fields = error.extra.get("fields") or {}
        found = []
        for index, problems in items.items():
            base = paths[int(index)] if int(index) < len(paths) else paths[0]
            problems = problems if isinstance(problems, dict) else {"": problems}
            for field, messages in problems.items():
                messages = messages if isinstance(messages, list) else [messages]
                path = (*base, field) if field and field != "non_field_errors" else base
                found.append(doc.error(path, "; ".join(str(m) for m in messages)))
        for field, messages in fields.items():
            found.append(doc.error((*paths[0], field), "; ".join(str(m) for m in messages)))
        raise DocumentErrors(found or [doc.error(paths[0], error.message)]) from None


def _resolve_catalog(doc: YamlDocument, devices: list[dict], errors: list) -> dict[str, dict]:
    wanted = {
        "role": (DeviceRole, "slug"),
        "device_type": (DeviceType, "slug"),
        "platform": (Platform, "slug"),
    }
    found = {
        key: _lookup(model, field, {d[key] for d in devices if isinstance(d.get(key), str)})
        for key, (model, field) in wanted.items()
    }
    for index, device in enumerate(devices):
        for key in wanted:
            value = device.get(key)
            if value is None and key == "platform":
                continue
            if value not in found[key]:
                errors.append(doc.error(("devices", index, key), f"no {key} {value!r}"))
    return found


def site_document_import(*, text: str | bytes) -> Site:
    """Create the site that ``text`` describes, or nothing at all."""
    doc = yaml_load(text, what="site design document")
    if doc.data is None:
        reason = f"the document is empty; expected a site design (kind: {DOCUMENT_KIND})"
        raise DocumentErrors([doc.error((), reason)])
    if isinstance(doc.data, dict) and doc.data.get("kind") != DOCUMENT_KIND:
        raise DocumentErrors([doc.error(("kind",), f"must be {DOCUMENT_KIND!r}")])
    errors = document_shape_errors(doc)
    if errors:
        raise DocumentErrors(errors)
    site_data = doc.data["site"]
    sections = ("racks", "devices", "cables", "prefixes", "ip_addresses")
    racks, devices, cables, prefixes, addresses = (doc.data.get(key) or [] for key in sections)
    catalog = _resolve_catalog(doc, devices, errors)
    vrf_names = {i["vrf"] for i in [*prefixes, *addresses] if i.get("vrf")}
    vrfs = _lookup(VRF, "name", vrf_names)
    for key, items in (("prefixes", prefixes), ("ip_addresses", addresses)):
        for index, item in enumerate(items):
            if item.get("vrf") and item["vrf"] not in vrfs:
                errors.append(doc.error((key, index, "vrf"), f"no VRF named {item['vrf']!r}"))
    if errors:
        raise DocumentErrors(errors)
    with transaction.atomic():
        return _write(doc, site_data, racks, devices, cables, prefixes, addresses, catalog, vrfs)


def _write(doc, site_data, racks, devices, cables, prefixes, addresses, catalog, vrfs) -> Site:
    site = _run(doc, [("site",)], lambda: dcim_services.site_create(**site_data))
    rack_rows = _run(
        doc,
        [("racks", i) for i in range(len(racks))],
        lambda: model_bulk_create(Rack, items=[{**r, "site": site} for r in racks]),
    )
    rack_by_name = {rack.name: rack for rack in rack_rows}
    device_items, errors = [], []
    for index, data in enumerate(devices):
        fields = {k: v for k, v in data.items() if k not in PORT_FIELDS}
        if fields.get("rack") and fields["rack"] not in rack_by_name:
            errors.append(doc.error(("devices", index, "rack"), f"no rack {fields['rack']!r}"))
        fields.update(
            site=site,
            rack=rack_by_name.get(fields.get("rack")),
            role=catalog["role"][data["role"]],
            device_type=catalog["device_type"][data["device_type"]],
            platform=catalog["platform"].get(data.get("platform")),
        )
        device_items.append(fields)
    if errors:
        raise DocumentErrors(errors)
    created = _run(
        doc,
        [("devices", i) for i in range(len(devices))],
        lambda: dcim_services.device_bulk_create(items=device_items),
    )
    ports = _write_ports(doc, devices, created)
    _write_cables(doc, cables, ports)
    _run(
        doc,
        [("prefixes", i) for i in range(len(prefixes))],
        lambda: ipam_services.prefix_bulk_create(
            items=[{**p, "site": site, "vrf": vrfs.get(p.get("vrf"))} for p in prefixes]
        ),
    )
    _write_addresses(doc, addresses, ports, vrfs)
    return site


def _write_ports(doc, devices: list[dict], created: list[Device]) -> dict[tuple, Any]:
    """Create the ports a device's type did not bring, update the listed fields of the others;
    return every port by (device name, kind, port name)."""
    by_id = {device.pk: device for device in created}
    ports: dict[tuple, Any] = {}
    for kind, model, _attr in PORT_KINDS:
        for port in model.objects.filter(device__in=created):
            ports[(by_id[port.device_id].name, kind, port.name)] = port
    for kind, _model, attr in PORT_KINDS:
        new_items, new_paths, changed, before = [], [], [], {}
        for index, (data, device) in enumerate(zip(devices, created, strict=True)):
            listed = data.get(attr) or []
            for number, port_data in enumerate(listed):
                path = ("devices", index, attr, number)
                existing = ports.get((device.name, kind, port_data["name"]))
                fields = {k: port_data[k] for k in PORT_FIELDS[attr] if k in port_data}
                if existing is None:
                    new_items.append({"device": device, "name": port_data["name"], **fields})
                    new_paths.append(path)
                elif any(getattr(existing, k) != v for k, v in fields.items()):
                    before.update(changelog_snapshot([existing]))
                    for key, value in fields.items():
                        setattr(existing, key, value)
                    changed.append((path, existing))
        for path, port in changed:
            _run(doc, [path], lambda port=port: port.full_clean(validate_unique=False))
        if changed:
            instances = [port for _path, port in changed]
            type(instances[0]).objects.bulk_update(instances, list(PORT_FIELDS[attr]))
            changelog_record(action="update", instances=instances, before=before)
        if new_items:
            made = _run(doc, new_paths, lambda a=attr, items=new_items: PORT_CREATE[a](items=items))
            for port in made:
                ports[(port.device.name, kind, port.name)] = port
    return ports


def _end(doc, path: Path, data: dict[str, str], ports: dict[tuple, Any]) -> Any:
    """The port a cable end names (its shape was checked by ``document_shape_errors``)."""
    kinds = [kind for kind, _model, _attr in PORT_KINDS if kind in data]
    port = ports.get((data["device"], kinds[0], data[kinds[0]]))
    if port is None:
        raise DocumentErrors(
            [doc.error((*path, kinds[0]), f"{data['device']} has no {kinds[0]} {data[kinds[0]]!r}")]
        )
    return port


def _write_cables(doc, cables: list[dict], ports: dict[tuple, Any]) -> None:
    items = []
    for index, cable in enumerate(cables):
        fields = {k: v for k, v in cable.items() if k not in ("a", "b")}
        a_end = _end(doc, ("cables", index, "a"), cable["a"], ports)
        b_end = _end(doc, ("cables", index, "b"), cable["b"], ports)
        items.append({"a_end": a_end, "b_end": b_end, **fields})
    if items:
        _run(
            doc,
            [("cables", i) for i in range(len(cables))],
            lambda: dcim_services.cable_bulk_create(items=items),
        )


def _write_addresses(doc, addresses: list[dict], ports: dict[tuple, Any], vrfs) -> None:
    items = []
    for index, data in enumerate(addresses):
        fields = {k: v for k, v in data.items() if k not in ("device", "interface", "vrf")}
        interface = None
        if data.get("device") or data.get("interface"):
            interface = ports.get((data.get("device"), "interface", data.get("interface")))
            if interface is None:
                raise DocumentErrors(
                    [
                        doc.error(
                            ("ip_addresses", index, "interface"),
                            f"{data.get('device')} has no interface {data.get('interface')!r}",
                        )
                    ]
                )
        items.append({**fields, "vrf": vrfs.get(data.get("vrf")), "assigned_interface": interface})
    if items:
        _run(
            doc,
            [("ip_addresses", i) for i in range(len(addresses))],
            lambda: ipam_services.ip_address_bulk_create(items=items),
        )
