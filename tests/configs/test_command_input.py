"""``turnup render --out`` to a folder it cannot make: a ``CommandError``, not a traceback."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.configs.designs import default_credentials, pop_core_site

pytestmark = pytest.mark.django_db


def test_render_out_is_a_file(tmp_path):
    default_credentials()
    pop_core_site()
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    with pytest.raises(CommandError, match="--out .*taken: File exists"):
        call_command("render", "LON-01", "--out", str(taken), "--no-store", stdout=io.StringIO())
