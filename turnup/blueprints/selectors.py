"""Reads of blueprints.

- ``blueprint_get(*, name)`` -> Blueprint (the shipped ones are stored on first use).
- ``blueprint_instance_for_site(*, site_id)`` -> BlueprintInstance | None: the blueprint,
  parameter values and free template ``variables`` a site was built with — what the config
  templates read as ``vars``.
"""

from __future__ import annotations

from typing import Any

from turnup.blueprints.models import Blueprint, BlueprintInstance
from turnup.core.errors import NotFoundError


def blueprint_list():
    return Blueprint.objects.all()


def blueprint_get(*, name: str) -> Blueprint:
    blueprint = Blueprint.objects.filter(name=name).first()
    if blueprint is None:
        from turnup.blueprints.services import SHIPPED, blueprint_library_sync

        if name in SHIPPED:
            blueprint_library_sync()
            blueprint = Blueprint.objects.filter(name=name).first()
    if blueprint is None:
        raise NotFoundError(f'No blueprint named "{name}"')
    return blueprint


def blueprint_instance_for_site(*, site_id: int) -> BlueprintInstance | None:
    return BlueprintInstance.objects.select_related("blueprint").filter(site_id=site_id).first()


def site_template_variables(*, site_id: int) -> dict[str, Any]:
    """The site's free template variables ({} for a site not built from a blueprint)."""
    instance = BlueprintInstance.objects.filter(site_id=site_id).only("variables").first()
    return dict(instance.variables) if instance else {}
