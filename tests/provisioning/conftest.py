"""Fixtures of the turn-up graph tests: an IOS-XE site built through the real services
(a blueprint), a lab wired as its design says, and a Celery worker under the test's control.

The site's management and console-server addresses live in 127.X.0.0/16 (X drawn per test),
so the lab binds them on loopback as the design says (no mapping) and parallel test runs do
not collide.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import pytest

from tests.conftest import restore_seed_rows
from tests.lab.conftest import RunningLab

BLUEPRINT = """
name: graph-test-BAUD-OCTET
version: 1
description: IOS-XE routers behind one console server (turn-up graph tests)
parameters:
  name: {type: string, required: true}
  n: {type: integer, default: 2}
pools:
  graph-loopbacks: {prefix: 10.193.0.0/16}
  graph-p2p: {prefix: 10.194.0.0/16}
  graph-mgmt-OCTET: {prefix: 127.OCTET.0.0/16, vrf: mgmt}
asn_ranges:
  graph-asn: {start: 4200300000, end: 4200399999}
addressing:
  loopback: {pool: graph-loopbacks}
  p2p: {pool: graph-p2p, prefix_length: 31}
  management: {pool: graph-mgmt-OCTET, prefix_length: 24, gateway: first}
  asn: {range: graph-asn}
slots:
  - name: core
    count: 1
    name_pattern: "{site_lower}-cr{n}"
    role: core
CORE_PLATFORM
    asn: site
  - name: edge
    count: "{n}"
    name_pattern: "{site_lower}-er{n}"
    role: edge
    device_type: cisco-c8300-1n1s-4t2x
    platform: cisco_iosxe
    loopback_interface: Loopback0
    mgmt_interface: GigabitEthernet0
    asn: site
  - name: console
    name_pattern: "{site_lower}-cs1"
    role: console-server
    device_type: opengear-cm7116-2
    platform: console_server
    mgmt_interface: eth0
console:
  server: console
  first_line: 1
  tcp_port_base: 2000
  baud: BAUD
  method: METHOD
routing:
  ospf: {process: 1, area: 0.0.0.0, network_type: p2p, cost: 10, slots: [core, edge]}
variables:
  domain_name: "{site_lower}.example.net"
  ntp_servers: [192.0.2.123]
  syslog_server: 192.0.2.50
"""

CREDENTIALS = dict(
    name="graph-default",
    is_default=True,
    console_username="admin",
    console_password="cs-secret-1",
    local_username="turnup",
    local_password="local-secret-1",
    junos_root_password="root-secret-1",
    enable_secret="enable-secret-1",
    snmp_username="nms",
    snmp_auth_protocol="sha-256",
    snmp_auth_key="auth-key-123",
    snmp_priv_protocol="aes-128",
    snmp_priv_key="priv-key-123",
)


IOSXE_CORE = """    device_type: cisco-c8300-1n1s-4t2x
    platform: cisco_iosxe
    loopback_interface: Loopback0
    mgmt_interface: GigabitEthernet0"""
JUNOS_CORE = """    device_type: juniper-mx204
    platform: juniper_junos
    loopback_interface: lo0
    mgmt_interface: fxp0"""


def approved_site(
    name: str = "GRT-01",
    *,
    edges: int = 2,
    baud: int = 115200,
    junos_core: bool = False,
    console_method: str = "telnet",
):
    """An approved site: one core router (IOS-XE, or Junos), ``edges`` edge IOS-XE routers
    and a console server reached by reverse telnet or SSH (a port per line either way)."""
    from turnup.blueprints.models import Blueprint
    from turnup.blueprints.services import blueprint_create, blueprint_instantiate
    from turnup.dcim.models import CredentialProfile, Site
    from turnup.dcim.services import credential_profile_create, site_transition

    restore_seed_rows()
    if not CredentialProfile.objects.filter(is_default=True).exists():
        credential_profile_create(**CREDENTIALS)
    octet = str(random.randint(100, 250))  # parallel test runs must not share addresses
    kind = f"{baud}{'-junos' if junos_core else ''}-{console_method}"
    blueprint = Blueprint.objects.filter(name__startswith=f"graph-test-{kind}-").first()
    if blueprint is None:
        source = BLUEPRINT.replace("BAUD", kind, 1).replace("BAUD", str(baud))
        source = source.replace("CORE_PLATFORM", JUNOS_CORE if junos_core else IOSXE_CORE)
        source = source.replace("METHOD", console_method)
        blueprint = blueprint_create(source=source.replace("OCTET", octet))
    blueprint_instantiate(blueprint=blueprint, params={"name": name, "n": edges})
    site = Site.objects.get(name=name)
    for status in ("designed", "approved"):
        site_transition(site=site, to_status=status)
    return site


def free_ports(site, *routers: str):
    """The first port of each router that is neither cabled nor its management port."""
    from turnup.dcim.models import Interface
    from turnup.ipam.models import IPAddress

    mgmt = IPAddress.objects.filter(is_primary_mgmt=True).values("assigned_interface_id")
    ports = []
    for router in routers:
        free = Interface.objects.filter(
            device__name=f"{site.name.lower()}-{router}", cable__isnull=True, mgmt_only=False
        ).exclude(pk__in=mgmt)
        ports.append(free.exclude(name__startswith="Loopback").order_by("id").first())
    return ports


def assert_verify_waits_for_lldp(engine, *, hostname: str, cabled: list, port: str, seen: str):
    """The far end of ``port`` has just started LLDP (its first advertisement is due in
    0.5 s): at once verification does not see it; allowed to wait, it reads LLDP again
    until it does, and records the wait."""
    at_once = engine.mgmt_verify(hostname=hostname, interfaces=cabled)
    assert at_once.checks["cabling"] == {port: "not seen"}
    waited = engine.mgmt_verify(hostname=hostname, interfaces=cabled, lldp_wait=10)
    assert waited.ok, waited.problems
    assert waited.checks["cabling"] == {port: "as designed"}
    assert waited.checks["neighbours"] == {port: seen}
    assert 0.3 <= waited.checks["lldp_waited_seconds"] <= 4


def router_state(lab: RunningLab, name: str) -> dict:
    """What the lab router shows: hostname, running and saved config, console bytes in,
    management logins."""
    router = lab.router(name)
    running = lab.call(router.show_running)
    line = lab.line(name)
    return {
        "hostname": router.hostname,
        "running": running,
        "saved": router.startup or "",
        "bytes_in": lab.call(line.status)["bytes_in"],
        "mgmt_logins": router.mgmt_logins,
    }


def site_lab(
    site,
    *,
    time_scale: float = 0.02,
    options: dict | None = None,
    rewire: Callable[[list[dict]], list[dict]] | None = None,
) -> RunningLab:
    """A lab wired as ``site``'s design says (routers factory-fresh); ``rewire`` changes its
    router-to-router cables (the design's, ``[{"a": "r1 Gi0/0/1", "b": "r2 Gi0/0/1"}]``)."""
    from turnup.lab.design import site_lab_config

    config = site_lab_config(site=site, time_scale=time_scale)
    config["control"] = "127.0.0.1:0"
    if rewire is not None:
        config["links"] = rewire(config.get("links", []))
    for router in config["routers"]:
        base = {"boot_seconds": 1}
        if router["platform"] == "cisco_iosxe":
            base["pnp_messages"] = False
        router["options"] = {**base, **(options or {})}
    return RunningLab(config)


@pytest.fixture
def lab_of():
    labs: list[RunningLab] = []

    def start(site, **kwargs) -> RunningLab:
        lab = site_lab(site, **kwargs)
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        lab.close()


@pytest.fixture
def enqueued(monkeypatch):
    """Graphs the services would send to the broker (run ids): no worker runs them."""
    sent: list[int] = []
    monkeypatch.setattr(
        "turnup.provisioning.workflows.site_turnup_graph_enqueue",
        lambda *, run_id: sent.append(run_id),
    )
    return sent


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def worker(transactional_db, storage):
    """A Celery worker in this process (threads pool) on an in-memory broker and result
    backend: the real graph, chords included, run by a worker the test controls."""
    from celery.contrib.testing.worker import start_worker
    from django.db import connection

    from tests.conftest import require_service
    from turnup.celery import app

    if connection.vendor == "sqlite":
        # in-memory SQLite shared between threads locks whole tables ("database table is
        # locked"); the file-based SQLite of `make run` is covered by tests/provisioning's
        # subprocess test
        require_service("POSTGRESQL")

    keys = ("broker_url", "result_backend", "task_always_eager", "broker_transport_options")
    saved = {k: app.conf[k] for k in keys}
    app.conf.update(
        broker_url="memory://",
        result_backend="cache+memory://",
        task_always_eager=False,
        # the memory transport is polled too (1 s after an empty poll): as the embedded
        # broker, so a hop of the graph does not wait a second
        broker_transport_options={"polling_interval": 0.1},
    )
    _drop_pool(app)
    try:
        with start_worker(
            app, pool="threads", concurrency=8, perform_ping_check=False, shutdown_timeout=30
        ) as controller:
            yield controller
    finally:
        app.conf.update(saved)
        _drop_pool(app)


def _drop_pool(app) -> None:
    """Forget the producer pool and the result backend: they point at the previous ones."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    pools.reset()
    app._backend_cache = None
    app._local = threading.local()
