"""What a worker does when it starts: import the drivers and their vendor libraries once,
before a run's first steps (which would otherwise all wait on the import lock)."""

import logging

from celery.signals import worker_init

from turnup.provisioning import services, tasks  # noqa: F401 - tasks connects the signals


def test_drivers_and_their_libraries_are_imported_at_worker_start(monkeypatch):
    preload, calls = services.drivers_preload, []
    monkeypatch.setattr(services, "drivers_preload", lambda: calls.append("preload") or [])
    worker_init.send(sender=None)
    assert calls == ["preload"]

    imported = set(preload())
    assert {
        "turnup.provisioning.drivers.iosxe",
        "turnup.provisioning.drivers.junos",
        "netmiko",
        "jnpr.junos",
    } <= imported


def test_a_driver_missing_from_the_build_does_not_stop_the_worker(monkeypatch, caplog):
    monkeypatch.setitem(services.DRIVERS, "vendor_x", "turnup.provisioning.drivers.nope.Driver")
    # the handler on the module's logger itself: the suite's logging set-up may stop
    # propagation to the root logger caplog listens on
    caplog.set_level(logging.WARNING, logger=services.log.name)
    services.log.addHandler(caplog.handler)
    try:
        imported = services.drivers_preload()
    finally:
        services.log.removeHandler(caplog.handler)
    assert "turnup.provisioning.drivers.iosxe" in imported
    assert not any("nope" in name for name in imported)
    assert "turnup.provisioning.drivers.nope.Driver is not available" in caplog.text
