"""Composite test data for blueprints and checks: real sites built by the real services."""

from __future__ import annotations

from typing import Any

from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_instantiate
from turnup.dcim.models import Site


def build_site(blueprint: str = "pop-core", **params: Any) -> Site:
    """Instantiate a shipped blueprint and return the site."""
    params.setdefault("name", "LON-01")
    blueprint_instantiate(blueprint=blueprint_get(name=blueprint), params=params)
    return Site.objects.get(name=params["name"])
