"""``turnup design export -o`` to a path it cannot write: a ``CommandError``."""

import pytest
from django.core.management import CommandError, call_command

from ..factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_export_to_a_path_it_cannot_write(tmp_path):
    SiteFactory(name="PAR-01", slug="par-01")
    with pytest.raises(CommandError, match="cannot write .*x.yaml: No such file"):
        call_command("design", "export", "PAR-01", "-o", str(tmp_path / "nodir" / "x.yaml"))
    with pytest.raises(CommandError, match="cannot write .*: Is a directory"):
        call_command("design", "export", "PAR-01", "-o", str(tmp_path))
