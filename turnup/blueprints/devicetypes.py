"""The device types the shipped blueprints use (``library/device-types.yaml``), created on
demand: a blueprint that names a type turnup ships but the database lacks gets it, with its
interface, console-port and console-server-port templates. Existing types are left alone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from turnup.core.changelog import changelog_record
from turnup.core.services import bulk_validate
from turnup.dcim.models import (
    ConsolePortTemplate,
    ConsoleServerPortTemplate,
    DeviceType,
    InterfaceTemplate,
    Manufacturer,
    Platform,
)

LIBRARY = Path(__file__).resolve().parent / "library" / "device-types.yaml"
MANUFACTURER_NAMES = {"cisco": "Cisco", "juniper": "Juniper", "opengear": "Opengear"}


def expand_names(spec: dict[str, Any]) -> list[str]:
    """``{"names": "et-0/0/[0-3]"}`` -> et-0/0/0 … et-0/0/3; ``{"name": "fxp0"}`` -> [fxp0]."""
    if "name" in spec:
        return [spec["name"]]
    match = re.fullmatch(r"(.*)\[(\d+)-(\d+)\](.*)", spec["names"])
    if not match:
        return [spec["names"]]
    head, first, last, tail = match.groups()
    return [f"{head}{n}{tail}" for n in range(int(first), int(last) + 1)]


@cache
def shipped_device_types() -> dict[str, dict[str, Any]]:
    """The shipped definitions by slug."""
    return {spec["slug"]: spec for spec in yaml.safe_load(LIBRARY.read_text())}


def template_rows(spec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The component templates of a shipped definition, as plain rows."""
    interfaces = [
        {"name": name, "type": item["type"], "mgmt_only": item.get("mgmt_only", False)}
        for item in spec.get("interfaces", [])
        for name in expand_names(item)
    ]
    console_ports = [
        {"name": name, "type": item.get("type", "")}
        for item in spec.get("console_ports", [])
        for name in expand_names(item)
    ]
    server = spec.get("console_server_ports")
    server_ports = [
        {"name": name, "type": server.get("type", ""), "line": line}
        for line, name in enumerate(expand_names(server) if server else [], start=1)
    ]
    return {"interfaces": interfaces, "console_ports": console_ports, "server_ports": server_ports}


@transaction.atomic
def device_types_ensure(*, slugs: Iterable[str]) -> dict[str, DeviceType]:
    """Return the device types named by ``slugs``, creating the shipped ones that are missing.

    A slug that is neither in the database nor shipped is left out of the result (the planner
    reports it). A constant number of queries, whatever the number of types.
    """
    slugs = set(slugs)
    found = {t.slug: t for t in DeviceType.objects.filter(slug__in=slugs).order_by("pk")}
    missing = [s for s in (shipped_device_types().get(x) for x in slugs - set(found)) if s]
    if not missing:
        return found
    makers = {
        m.slug: m
        for m in Manufacturer.objects.filter(slug__in={s["manufacturer"] for s in missing})
    }
    new_makers = [
        Manufacturer(slug=slug, name=MANUFACTURER_NAMES.get(slug, slug.title()))
        for slug in sorted({s["manufacturer"] for s in missing} - set(makers))
    ]
    if new_makers:
        bulk_validate(new_makers)
        for maker in Manufacturer.objects.bulk_create(new_makers):
            makers[maker.slug] = maker
        changelog_record(action="create", instances=new_makers)
    platforms = {
        p.slug: p for p in Platform.objects.filter(slug__in={s["platform"] for s in missing})
    }
    types = [
        DeviceType(
            manufacturer=makers[spec["manufacturer"]],
            model=spec["model"],
            slug=spec["slug"],
            part_number=spec.get("part_number", ""),
            u_height=spec.get("u_height", 1),
            default_platform=platforms.get(spec["platform"]),
            description=spec.get("description", ""),
        )
        for spec in sorted(missing, key=lambda s: s["slug"])
    ]
    bulk_validate(types)
    types = DeviceType.objects.bulk_create(types)
    interfaces, console_ports, server_ports = [], [], []
    for device_type in types:
        rows = template_rows(shipped_device_types()[device_type.slug])
        interfaces += [InterfaceTemplate(device_type=device_type, **r) for r in rows["interfaces"]]
        console_ports += [
            ConsolePortTemplate(device_type=device_type, **r) for r in rows["console_ports"]
        ]
        server_ports += [
            ConsoleServerPortTemplate(device_type=device_type, **r) for r in rows["server_ports"]
        ]
    created = []
    for model, rows in (
        (InterfaceTemplate, interfaces),
        (ConsolePortTemplate, console_ports),
        (ConsoleServerPortTemplate, server_ports),
    ):
        if rows:
            created += model.objects.bulk_create(rows)
    changelog_record(action="create", instances=[*types, *created])
    return {**found, **{t.slug: t for t in types}}
