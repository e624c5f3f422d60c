"""Every shipped template and role against its golden file.

A template change shows up as a failing test with a diff; to accept it, rewrite the goldens
explicitly: ``UPDATE_GOLDENS=1 pytest tests/configs/test_golden.py`` and review the git diff.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from tests.configs.samples import sample_context
from turnup.configs.context import KINDS, RENDERED_PLATFORMS, ROLES
from turnup.configs.rendering import render_config

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDENS", "") == "1"


def golden_path(platform: str, role: str, kind: str) -> Path:
    suffix = "set" if platform == "juniper_junos" else "cfg"
    return GOLDEN / platform / f"{role}.{kind}.{suffix}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("platform", RENDERED_PLATFORMS)
def test_rendered_config_matches_golden(platform, role, kind):
    text = render_config(context=sample_context(platform, role), kind=kind)
    path = golden_path(platform, role, kind)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if not path.exists():
        pytest.fail(f"no golden file {path}; create it with UPDATE_GOLDENS=1 and review it")
    expected = path.read_text()
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"golden/{path.relative_to(GOLDEN)}",
                tofile="rendered",
            )
        )
        pytest.fail(f"rendered config differs from its golden file:\n{diff}")


def test_every_shipped_role_template_has_goldens():
    shipped = Path(__file__).resolve().parents[2] / "turnup" / "configs" / "templates"
    for platform in RENDERED_PLATFORMS:
        roles = {p.stem for p in (shipped / platform).glob("*.j2")} - {
            "base",
            "bootstrap",
            "default",
        }
        assert roles == set(ROLES), f"{platform}: a role template without goldens"
