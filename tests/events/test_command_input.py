"""``turnup events --prune --days`` out of range: a ``CommandError``, not an overflow."""

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_prune_days_too_large():
    with pytest.raises(CommandError, match="--days must be 36500 or less"):
        call_command("events", "--prune", "--days", "99999999999")
