import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.configs.designs import default_credentials, pop_core_site
from turnup.configs.models import ConfigTemplate, ConfigVersion

pytestmark = pytest.mark.django_db


def test_render_command_writes_files_and_versions(local_storage, tmp_path):
    default_credentials()
    pop_core_site()
    out = io.StringIO()
    call_command("render", "LON-01", "--out", str(tmp_path / "cfg"), stdout=out)
    text = out.getvalue()
    assert "8 configs, 8 new version(s), 0 lint error(s)" in text
    files = sorted(p.name for p in (tmp_path / "cfg").iterdir())
    assert "lon-01-cr1.bootstrap.set" in files and "lon-01-er1.full.cfg" in files
    assert len(files) == 8
    assert ConfigVersion.objects.count() == 8
    call_command("render", "lon-01", "--no-store", stdout=io.StringIO())  # by slug
    assert ConfigVersion.objects.count() == 8


def test_render_command_exits_1_on_lint_errors(local_storage):
    default_credentials()
    pop_core_site()
    ConfigTemplate.objects.create(path="cisco_iosxe/partials/ssh.j2", text="ip ssh time-out 60\n")
    out = io.StringIO()
    with pytest.raises(SystemExit) as caught:
        call_command("render", "LON-01", stdout=out)
    assert caught.value.code == 1
    assert "'ip ssh version 2' missing" in out.getvalue()


def test_render_command_unknown_site():
    with pytest.raises(CommandError):
        call_command("render", "NOPE-01", stdout=io.StringIO())


def test_admin_pages(admin_client, local_storage):
    default_credentials()
    site = pop_core_site()
    from turnup.configs.services import site_render

    site_render(site=site)
    version = ConfigVersion.objects.filter(kind="bootstrap").first()
    listing = admin_client.get("/admin/configs/configversion/")
    assert listing.status_code == 200
    detail = admin_client.get(f"/admin/configs/configversion/{version.pk}/change/")
    assert detail.status_code == 200
    assert "root-authentication" in detail.content.decode() or "crypto key" in (
        detail.content.decode()
    )
    response = admin_client.post(
        "/admin/configs/configtemplate/add/",
        {"path": "juniper_junos/partials/ntp.j2", "text": "# none\n", "enabled": "on"},
    )
    assert response.status_code == 302
    assert ConfigTemplate.objects.get().path == "juniper_junos/partials/ntp.j2"
