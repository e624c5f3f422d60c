"""The provisioning admin: console-line locks are looked at or deleted, never added or
edited by hand (an add page of read-only fields saved an empty row)."""

import datetime

import pytest
from django.utils import timezone

from tests import factories as f
from turnup.provisioning.models import ConsoleLineLock, Run, Step

pytestmark = pytest.mark.django_db


@pytest.fixture
def lock():
    device = f.DeviceFactory()
    run = Run.objects.create(site=device.site, status="running")
    step = Step.objects.create(run=run, device=device, stage=0, order=0, name="bootstrap")
    now = timezone.now()
    return ConsoleLineLock.objects.create(
        key="cs1:3",
        server="cs1",
        run=run,
        step=step,
        owner="worker-1",
        taken=now,
        expires_at=now + datetime.timedelta(minutes=5),
    )


def test_a_console_line_lock_is_not_added_by_hand(admin_client):
    assert admin_client.get("/admin/provisioning/consolelinelock/add/").status_code == 403
    assert admin_client.post("/admin/provisioning/consolelinelock/add/", {}).status_code == 403
    assert not ConsoleLineLock.objects.exists()


def test_a_stuck_console_line_lock_is_seen_and_deleted(admin_client, lock):
    url = f"/admin/provisioning/consolelinelock/{lock.pk}/"
    assert admin_client.get("/admin/provisioning/consolelinelock/").status_code == 200
    assert admin_client.get(f"{url}change/").status_code == 200
    assert admin_client.post(f"{url}change/", {"key": "other"}).status_code == 403
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 302
    assert not ConsoleLineLock.objects.exists()


def test_runs_and_steps_are_shown_not_edited(admin_client, lock):
    """A run changes through its services only: posting its read-only form wrote an empty
    change-log entry."""
    from turnup.core.models import ObjectChange

    for url in (
        f"/admin/provisioning/run/{lock.run_id}/change/",
        f"/admin/provisioning/step/{lock.step_id}/change/",
    ):
        assert admin_client.get(url).status_code == 200
        assert admin_client.post(url, {}).status_code == 403
    assert not ObjectChange.objects.filter(object_repr__icontains="run").exists()
