"""Shared by the turn-up benches (bench/turnup.py, bench/turnup_peers.py): Django on a
throw-away data folder, and an approved site of N IOS-XE routers behind M console servers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BLUEPRINT = """
name: bench-turnup
version: 1
description: N IOS-XE routers behind M console servers (the turn-up benches)
parameters:
  name: {type: string, required: true}
  n: {type: integer, default: 20}
  m: {type: integer, default: 2}
pools:
  bench-loopbacks: {prefix: 10.195.0.0/16}
  bench-p2p: {prefix: 10.196.0.0/16}
  bench-mgmt: {prefix: 127.91.0.0/16, vrf: mgmt}
asn_ranges:
  bench-asn: {start: 4200400000, end: 4200499999}
addressing:
  loopback: {pool: bench-loopbacks}
  p2p: {pool: bench-p2p, prefix_length: 31}
  management: {pool: bench-mgmt, prefix_length: 24, gateway: first}
  asn: {range: bench-asn}
slots:
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
    count: "{m}"
    name_pattern: "{site_lower}-cs{n}"
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
variables:
  domain_name: "{site_lower}.example.net"
  ntp_servers: [192.0.2.123]
  syslog_server: 192.0.2.50
"""

# IOS-XE 17's first-boot dialog takes an enable secret of 10-32 characters with upper and
# lower case and a digit: the designed one complies, so every tool answers it with the same.
ENABLE_SECRET = "BenchEnable2026"
LOCAL_USER, LOCAL_PASSWORD = "turnup", "bench-local-1"


def django_setup(data_dir: Path, *, database_url: str = "", broker_url: str = "") -> dict:
    """Django on ``database_url`` (empty: an SQLite file in ``data_dir``) with the broker and
    result backend at ``broker_url`` (empty: the embedded SQLite broker), migrated. Returns
    the environment a worker process needs to join it."""
    env = {
        "TURNUP_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": broker_url,
        "SECRET_KEY": "bench-only-not-secret",
        "TURNUP_SECRETS_KEY": "bench-only-not-secret",
        "LOG_LEVEL": "WARNING",
    }
    for key in list(os.environ):
        if key.startswith(("TURNUP_", "CELERY_")) and key not in env:
            del os.environ[key]
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "turnup.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def approved_site(
    *, name: str, routers: int, servers: int, baud: int, console_method: str = "telnet"
):
    """The bench site, designed and approved (its checks pass); its console servers are
    reached by reverse telnet or by SSH (a TCP port per line either way)."""
    from turnup.blueprints.services import blueprint_create, blueprint_instantiate
    from turnup.dcim.models import Site
    from turnup.dcim.services import credential_profile_create, site_transition

    credential_profile_create(
        name="bench",
        is_default=True,
        console_username="admin",
        console_password="bench-cs-1",
        local_username=LOCAL_USER,
        local_password=LOCAL_PASSWORD,
        junos_root_password="bench-root-1",
        enable_secret=ENABLE_SECRET,
        snmp_username="nms",
        snmp_auth_protocol="sha-256",
        snmp_auth_key="bench-auth-123",
        snmp_priv_protocol="aes-128",
        snmp_priv_key="bench-priv-123",
    )
    source = BLUEPRINT.replace("BAUD", str(baud)).replace("METHOD", console_method)
    blueprint = blueprint_create(source=source)
    blueprint_instantiate(blueprint=blueprint, params={"name": name, "n": routers, "m": servers})
    site = Site.objects.get(name=name)
    for status in ("designed", "approved"):
        site_transition(site=site, to_status=status)
    return site
