"""TURNUP_SECRETS_KEY: required at start in production mode, derived in DEBUG."""

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.django_db

CHECK = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SECRETS_KEYS[0][:7])"
)


def _start(tmp_path, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TURNUP_", "PYTEST_")) and k not in ("DEBUG", "SECRET_KEY")
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="turnup.settings",
        TURNUP_DATA_DIR=str(tmp_path),
        DATABASE_URL="",
        PYTHONPATH=str(ROOT),
        SECRET_KEY="test-only-not-secret",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", CHECK], env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_start_fails_without_the_key_naming_it(tmp_path):
    result = _start(tmp_path)
    assert result.returncode != 0
    assert "TURNUP_SECRETS_KEY: must be set when DEBUG is off" in result.stderr


def test_start_with_the_key_or_in_debug(tmp_path):
    assert _start(tmp_path, TURNUP_SECRETS_KEY="k" * 40).stdout.strip() == "kkkkkkk"
    debug = _start(tmp_path, DEBUG="true")
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout.strip() == "derived"


def test_data_migration_created_the_platforms_and_roles():
    from turnup.dcim.models import DeviceRole, Platform

    assert {"cisco_iosxe", "juniper_junos", "console_server"} <= set(
        Platform.objects.values_list("slug", flat=True)
    )
    assert {"core", "edge", "branch", "aggregation", "console-server", "management-switch"} <= set(
        DeviceRole.objects.values_list("slug", flat=True)
    )
