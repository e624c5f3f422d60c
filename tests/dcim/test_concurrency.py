"""Rules that need locks hold under concurrency (PostgreSQL): two engineers cabling the same
port, or mounting two devices in the same rack units, at the same moment."""

import threading

import pytest
from django.db import connection

from tests import factories as f
from tests.conftest import require_service
from turnup.core.errors import ApplicationError
from turnup.dcim import services
from turnup.dcim.models import Cable, Device

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    """Run the calls in parallel threads; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # the outcome is what the test asserts
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_one_port_cabled_twice_at_once_gets_one_cable():
    require_service("POSTGRESQL")
    shared, left, right = f.InterfaceFactory(), f.InterfaceFactory(), f.InterfaceFactory()
    results = _race(
        lambda: services.cable_create(a_end=left, b_end=shared),
        lambda: services.cable_create(a_end=right, b_end=shared),
    )
    assert sum(isinstance(r, Cable) for r in results) == 1
    assert sum(isinstance(r, ApplicationError) for r in results) == 1
    assert Cable.objects.count() == 1


def test_two_devices_mounted_in_the_same_units_at_once():
    require_service("POSTGRESQL")
    rack = f.RackFactory()
    device_type = f.dcim_router_type()
    role = f.DeviceRoleFactory(slug="edge")

    def mount(name):
        return lambda: services.device_create(
            name=name,
            site=rack.site,
            rack=rack,
            position=10,
            face="front",
            device_type=device_type,
            role=role,
        )

    results = _race(mount("a"), mount("b"))
    assert sum(isinstance(r, Device) for r in results) == 1
    assert Device.objects.filter(rack=rack).count() == 1
