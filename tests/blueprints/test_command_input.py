"""``turnup site`` and ``turnup demo`` given bad input: a ``CommandError`` that says what is
wrong, never a traceback."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from turnup.dcim.models import CredentialProfile, Site

from ..factories import SiteFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def test_site_create_from_a_file_it_cannot_read(tmp_path):
    with pytest.raises(CommandError, match="cannot read .*missing.yaml: No such file"):
        run("site", "create", "--file", str(tmp_path / "missing.yaml"), "--set", "name=MAN-09")
    with pytest.raises(CommandError, match="cannot read .*: Is a directory"):
        run("site", "create", "--file", str(tmp_path), "--set", "name=MAN-09")


def test_site_check_finds_a_site_by_slug_too():
    CredentialProfile.objects.create(name="default", is_default=True)
    SiteFactory(name="PAR-01", slug="par-01")
    assert "PAR-01: 0 error(s)" in run("site", "check", "par-01")


@pytest.mark.parametrize("name", ["bad name", ""])
def test_demo_with_a_site_name_the_blueprint_refuses(name):
    with pytest.raises(CommandError, match=f"--site '{name}': Parameters are not valid"):
        run("demo", "--site", name)
    assert not Site.objects.exists()


def test_a_parameter_set_twice_with_two_values_is_refused():
    with pytest.raises(CommandError, match=r"--set name: given twice \('MAN-09' and 'MAN-10'\)"):
        run("site", "create", "-b", "branch-dual", "--set", "name=MAN-09", "--set", "name=MAN-10")
    assert not Site.objects.exists()
