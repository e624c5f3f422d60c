"""Writes of blueprints: upload a blueprint, and plan or instantiate a site from one.

- ``blueprint_create(*, source)`` — store a YAML blueprint (a newer version replaces it).
- ``blueprint_library_sync()`` — store the shipped blueprints that are missing or older.
- ``blueprint_plan(*, blueprint, params)`` — the plan (create / change / leave), no writes.
- ``blueprint_instantiate(*, blueprint, params, apply=True)`` — plan, and with ``apply``
  perform it in one transaction (an exhausted pool leaves nothing behind).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from turnup.blueprints.design import design_build, document_load, params_resolve
from turnup.blueprints.models import Blueprint
from turnup.blueprints.planner import Plan, SitePlanner
from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.errors import ConflictError
from turnup.dcim.choices import SiteStatus
from turnup.dcim.models import Site

LIBRARY = Path(__file__).resolve().parent / "library"
SHIPPED = ("pop-core", "branch-dual", "aggregation")


@transaction.atomic
def blueprint_create(*, source: str, builtin: bool = False) -> Blueprint:
    """Validate ``source`` and store it; a blueprint of the same name is replaced by a higher
    version (the same version with the same source changes nothing; an older one is refused).

    ``builtin``: a shipped file, which also replaces the stored copy of a shipped blueprint
    of the same version (the file was corrected in a release)."""
    document = document_load(source)
    fields = {
        "version": document["version"],
        "description": document.get("description", "")[:200],
        "source": source,
        "document": document,
        "builtin": builtin,
    }
    current = Blueprint.objects.select_for_update().filter(name=document["name"]).first()
    if current is None:
        blueprint = Blueprint(name=document["name"], **fields)
        blueprint.full_clean()
        blueprint.save()
        changelog_record(action="create", instances=[blueprint])
        return blueprint
    if current.version == fields["version"] and current.source == source:
        return current
    same_shipped = builtin and current.builtin and current.version == fields["version"]
    if current.version >= fields["version"] and not same_shipped:
        raise ConflictError(
            f"Blueprint {current.name} is already at version {current.version}; "
            f"upload a higher version than {fields['version']}",
            extra={"fields": {"version": [f"must be above {current.version}"]}},
        )
    before = changelog_snapshot([current])
    for key, value in fields.items():
        setattr(current, key, value)
    current.full_clean()
    current.save()
    changelog_record(action="update", instances=[current], before=before)
    return current


def blueprint_library_sync() -> list[Blueprint]:
    """Store every shipped blueprint that is missing or older than the shipped file."""
    stored = {b.name: b for b in Blueprint.objects.filter(name__in=SHIPPED)}
    out = []
    for name in SHIPPED:
        source = (LIBRARY / f"{name}.yaml").read_text()
        current = stored.get(name)
        if current is not None and current.source == source:
            out.append(current)
            continue
        document = document_load(source)
        if current is not None and (current.version > document["version"] or not current.builtin):
            out.append(current)  # a local upload wins over the shipped file
            continue
        out.append(blueprint_create(source=source, builtin=True))
    return out


def _planner(blueprint: Blueprint, params: dict[str, Any]) -> SitePlanner:
    document = blueprint.document or document_load(blueprint.source)
    design = design_build(document, params_resolve(document, params))
    return SitePlanner(design, blueprint)


def blueprint_plan(*, blueprint: Blueprint, params: dict[str, Any]) -> Plan:
    """What instantiating ``blueprint`` with ``params`` would create, change and leave."""
    return _planner(blueprint, params).plan()


def blueprint_instantiate(
    *, blueprint: Blueprint, params: dict[str, Any], apply: bool = True
) -> Plan:
    """Build (or bring up to date) the site ``params["name"]`` from ``blueprint``.

    One transaction: devices with their ports, cables, console wiring, addresses, ASNs,
    VLANs and routing rows. Re-running with the same inputs changes nothing. Without
    ``apply`` this is a dry run (the plan only).
    """
    planner = _planner(blueprint, params)
    if not apply:
        return planner.plan()
    with transaction.atomic():
        # two instantiations of one site run one after the other (the second sees the first)
        locked = list(Site.objects.select_for_update().filter(name=planner.design.site))
        if locked and locked[0].status == SiteStatus.TURNING_UP:
            raise ConflictError(
                f"Site {locked[0]} is turning up: its design cannot change until its run "
                "settles or is cancelled (the run pushes the design it rendered when it started)",
                extra={"site": locked[0].name, "status": locked[0].status},
            )
        return planner.apply()
