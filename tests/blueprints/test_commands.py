"""``turnup site create|check`` and ``turnup demo``."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from turnup.dcim.models import CredentialProfile, Device, Site

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def test_site_create_prints_the_plan_and_builds_a_new_site():
    out = run("site", "create", "--blueprint", "branch-dual", "--set", "name=MAN-07")
    assert "create" in out and "man-07-br1" in out
    assert "applied" in out
    assert Device.objects.filter(site__name="MAN-07").count() == 3


def test_site_create_dry_run_writes_nothing():
    out = run("site", "create", "-b", "pop-core", "--set", "name=LON-01", "--dry-run")
    assert "dry run" in out
    assert not Site.objects.filter(name="LON-01").exists()


def test_changes_to_an_existing_site_need_apply():
    run("site", "create", "-b", "pop-core", "--set", "name=LON-01")
    cables = lambda: Device.objects.get(name="lon-01-er1").interfaces.filter(cable__isnull=False)  # noqa: E731
    before = cables().count()
    out = run("site", "create", "-b", "pop-core", "--set", "name=LON-01", "topology=full-mesh")
    assert "--apply" in out and "change" in out
    assert cables().count() == before
    out = run(
        "site", "create", "-b", "pop-core", "--set", "name=LON-01", "topology=full-mesh", "--apply"
    )
    assert cables().count() == before + 1
    out = run("site", "create", "-b", "pop-core", "--set", "name=LON-01", "topology=full-mesh")
    assert "nothing to do" in out


def test_site_create_json():
    out = run("site", "create", "-b", "branch-dual", "--set", "name=MAN-07", "--json")
    plan = json.loads(out)
    assert plan["applied"] is True and plan["site"] == "MAN-07"


def test_site_create_reports_invalid_params():
    with pytest.raises(CommandError, match="Parameters are not valid"):
        run("site", "create", "-b", "aggregation", "--set", "name=FRA-01", "edge_count=x")


def test_site_check_exit_code():
    run("site", "create", "-b", "branch-dual", "--set", "name=MAN-07")
    with pytest.raises(SystemExit) as exit_:
        run("site", "check", "MAN-07")
    assert exit_.value.code == 1
    CredentialProfile.objects.create(name="default", is_default=True)
    out = run("site", "check", "MAN-07")
    assert "MAN-07: 0 error(s)" in out
    with pytest.raises(CommandError, match="no site named"):
        run("site", "check", "NOPE-01")


def test_demo_is_idempotent():
    out = run("demo")
    assert "DEMO-01" in out
    assert Device.objects.filter(site__name="DEMO-01").count() == 5
    assert CredentialProfile.objects.get(is_default=True).name == "lab-default"
    out = run("demo")
    assert "left as is" in out
    assert Device.objects.filter(site__name="DEMO-01").count() == 5
    assert "0 error(s)" in run("site", "check", "DEMO-01")


def test_site_create_from_a_file(tmp_path):
    from tests.blueprints.test_schema import LIBRARY

    path = tmp_path / "mine.yaml"
    path.write_text(
        (LIBRARY / "branch-dual.yaml").read_text().replace("name: branch-dual", "name: mine")
    )
    out = run("site", "create", "--file", str(path), "--set", "name=MAN-09")
    assert "MAN-09 from mine v2" in out
    assert Device.objects.filter(site__name="MAN-09").count() == 3
