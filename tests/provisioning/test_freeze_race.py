"""A design write and the start of a run on the same site, at the same moment (PostgreSQL):
one comes after the other. A run that starts while a write is open waits for it and renders
the design with it; a write that comes while a run is starting waits for the run and is
refused. Never a run that pushes a design other than the one the site ends up with.
(No worker: the graph's enqueue is captured.)"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from tests.conftest import require_service
from tests.provisioning.conftest import approved_site

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(call):
    """Start ``call`` in a thread with its own database connection; ``join()`` returns what
    it returned or raised."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except Exception as error:  # the outcome is what the test asserts
            outcome["value"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()

    def join():
        thread.join(60)
        assert not thread.is_alive(), "the thread did not finish"
        return outcome["value"]

    return join


def _someone_waits_for_a_lock(timeout: float = 10.0) -> bool:
    """Whether another session of this database is waiting for a row lock (polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


def _hostnames(run) -> set[str]:
    from turnup.configs.models import ConfigVersion

    ids = [pk for kinds in run.config_versions.values() for pk in kinds.values()]
    return set(ConfigVersion.objects.filter(pk__in=ids).values_list("hostname", flat=True))


def test_a_run_that_starts_during_a_write_waits_for_it_and_renders_it(storage, enqueued):
    require_service("POSTGRESQL")
    from turnup.dcim.models import Device
    from turnup.dcim.services import device_update
    from turnup.provisioning.services import run_start

    site = approved_site("FRZ-01", edges=1)
    edge = Device.objects.get(site=site, name="frz-01-er1")
    written, release = threading.Event(), threading.Event()

    def write():
        with transaction.atomic():
            device_update(instance=Device.objects.get(pk=edge.pk), name="frz-01-er7")
            written.set()
            release.wait(30)  # the write stays open while the run tries to start

    writer = _in_thread(write)
    assert written.wait(30)
    starter = _in_thread(lambda: run_start(site=site))
    waited = _someone_waits_for_a_lock()
    release.set()
    assert writer() is None
    run = starter()
    assert waited, "the run did not wait for the open write"
    assert not isinstance(run, Exception), run
    assert "frz-01-er7" in _hostnames(run), "the run rendered the design without the write"


def _held_render(monkeypatch, held: threading.Event, release: threading.Event) -> None:
    """``run_start`` stops in its render (its site's row locked) until ``release``."""
    from turnup.provisioning import services

    render = services._run_render

    def held_render(**kwargs):
        held.set()
        release.wait(30)
        return render(**kwargs)

    monkeypatch.setattr(services, "_run_render", held_render)


def test_a_write_that_comes_while_a_run_starts_waits_and_is_refused(storage, enqueued, monkeypatch):
    require_service("POSTGRESQL")
    from turnup.core.errors import ConflictError
    from turnup.dcim.models import Interface
    from turnup.dcim.services import port_update
    from turnup.provisioning.services import run_start

    site = approved_site("FRZ-02", edges=1)
    port = Interface.objects.filter(device__name="frz-02-er1", mgmt_only=False).first()
    held, release = threading.Event(), threading.Event()
    _held_render(monkeypatch, held, release)
    starter = _in_thread(lambda: run_start(site=site))
    assert held.wait(30)
    writer = _in_thread(lambda: port_update(instance=Interface.objects.get(pk=port.pk), mtu=9000))
    waited = _someone_waits_for_a_lock()
    release.set()
    run = starter()
    refused = writer()
    assert not isinstance(run, Exception), run
    assert waited, f"the write did not wait for the starting run: {refused!r}"
    assert isinstance(refused, ConflictError), refused
    assert refused.message.startswith("Site FRZ-02 is turning up"), refused.message
    assert Interface.objects.get(pk=port.pk).mtu == port.mtu


def test_a_rename_crossing_a_starting_run_is_refused_and_the_run_goes_on(
    storage, enqueued, monkeypatch
):
    """The rename holds its device's row (a key column changes), then waits for the site's;
    the starting run holds the site's, then needs the device's for its steps. PostgreSQL
    ends the one that waited first, the rename: refused (409), nothing changed."""
    require_service("POSTGRESQL")
    from turnup.core.errors import ConflictError
    from turnup.dcim.models import Device
    from turnup.dcim.services import device_update
    from turnup.provisioning.services import run_start

    site = approved_site("FRZ-03", edges=1)
    edge = Device.objects.get(site=site, name="frz-03-er1")
    held, release = threading.Event(), threading.Event()
    _held_render(monkeypatch, held, release)
    starter = _in_thread(lambda: run_start(site=site))
    assert held.wait(30)
    writer = _in_thread(
        lambda: device_update(instance=Device.objects.get(pk=edge.pk), name="frz-03-er7")
    )
    assert _someone_waits_for_a_lock(), "the rename did not wait for the starting run"
    release.set()
    refused = writer()
    run = starter()
    assert isinstance(refused, ConflictError), refused
    assert refused.extra == {"reason": "turnup_starting"}
    assert not isinstance(run, Exception), run
    assert Device.objects.get(pk=edge.pk).name == "frz-03-er1"
    assert "frz-03-er1" in _hostnames(run)
