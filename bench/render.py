"""Benchmark: render and lint the day-0 configs of a 1,000-router design read from the database.

Builds SITES sites of ROUTERS_PER_SITE routers each (half Junos core, half IOS-XE edge,
cabled, addressed, OSPF, one eBGP session per core-edge link, through the real blueprint
services), then renders every site one after another — bootstrap + full config per
router, each linted — and prints JSON: configs/s including the database reads, queries
per site, and the process RSS after each site (it must not grow with the number of sites
rendered).

    .venv/bin/python bench/render.py            # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/render.py

It writes 1,000 routers into its database, so it never uses DATABASE_URL: PostgreSQL only
through BENCH_DATABASE_URL, a dedicated database that the bench drops and re-creates.

Environment knobs: BENCH_SITES (default 10), BENCH_ROUTERS_PER_SITE (100), BENCH_STORE=1 to
also store versions (local folder) in a second pass.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SITES = int(os.environ.get("BENCH_SITES", "10"))
PER_SITE = int(os.environ.get("BENCH_ROUTERS_PER_SITE", "100"))
STORE = os.environ.get("BENCH_STORE", "") == "1"

BLUEPRINT = """
name: bench-render
version: 1
description: benchmark design, router count as a parameter
parameters:
  name: {type: string, required: true}
  n: {type: integer, default: 2}
pools:
  bench-loopbacks: {prefix: 10.200.0.0/16}
  bench-p2p: {prefix: 10.201.0.0/16}
  bench-mgmt: {prefix: 10.202.0.0/16, vrf: mgmt}
asn_ranges:
  bench-asn: {start: 4200100000, end: 4200199999}
addressing:
  loopback: {pool: bench-loopbacks}
  p2p: {pool: bench-p2p, prefix_length: 31}
  management: {pool: bench-mgmt, prefix_length: 24, gateway: first}
  asn: {range: bench-asn}
slots:
  - name: core
    count: "{n}"
    name_pattern: "{site_lower}-cr{n}"
    role: core
    device_type: juniper-mx204
    platform: juniper_junos
    loopback_interface: lo0
    mgmt_interface: fxp0
    asn: device
  - name: edge
    count: "{n}"
    name_pattern: "{site_lower}-er{n}"
    role: edge
    device_type: cisco-c8300-1n1s-4t2x
    platform: cisco_iosxe
    loopback_interface: Loopback0
    mgmt_interface: GigabitEthernet0
    asn: device
    links:
      - {peer: "core-{n}", kind: 10gbase-x-sfpp, peer_kind: 10gbase-x-sfpp}
routing:
  ospf: {process: 1, area: 0.0.0.0, network_type: p2p, cost: 10, slots: [core, edge]}
  bgp:
    sessions:
      - {kind: ebgp, slots: [core, edge]}
variables:
  domain_name: "{site_lower}.example.net"
  ntp_servers: [192.0.2.123, 192.0.2.124]
  syslog_server: 192.0.2.50
  dns_servers: [192.0.2.53]
  banner: "Authorized access only - {name}"
"""


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def setup() -> Path:
    data = Path(tempfile.mkdtemp(prefix="turnup-bench-render-"))
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("TURNUP_SECRETS_KEY", "bench-only-secrets-key-0123456789")
    os.environ["TURNUP_DATA_DIR"] = str(data)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "")
    if os.environ["DATABASE_URL"]:
        recreate_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "turnup.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


def recreate_database(url: str) -> None:
    """Drop and create the dedicated bench database (through the server's ``postgres`` db)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def build() -> list:
    from turnup.blueprints.services import blueprint_create, blueprint_instantiate
    from turnup.dcim.models import Site
    from turnup.dcim.services import credential_profile_create

    credential_profile_create(
        name="bench",
        is_default=True,
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
    blueprint = blueprint_create(source=BLUEPRINT)
    names = [f"B{chr(65 + i // 26)}{chr(65 + i % 26)}-{i:02d}" for i in range(SITES)]
    for name in names:
        blueprint_instantiate(blueprint=blueprint, params={"name": name, "n": PER_SITE // 2})
    return list(Site.objects.filter(name__in=names).order_by("name"))


def render_pass(sites, *, store: bool) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from turnup.configs.services import site_render

    per_site = []
    configs = errors = bootstrap_bytes = full_bytes = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for site in sites:
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            result = site_render(site=site, store=store)
        elapsed = time.perf_counter() - t0
        query_count = len(queries)
        configs += len(result.configs)
        errors += result.lint_errors + len(result.problems)
        for config in result.configs:
            if config.kind == "bootstrap":
                bootstrap_bytes = max(bootstrap_bytes, config.size)
            else:
                full_bytes = max(full_bytes, config.size)
        del result
        gc.collect()
        reset_queries()
        per_site.append(
            {
                "site": site.name,
                "seconds": round(elapsed, 3),
                "queries": query_count,
                "rss_mb": round(rss_mb(), 1),
            }
        )
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    rss = [s["rss_mb"] for s in per_site]
    half = len(rss) // 2
    return {
        "store": store,
        "configs": configs,
        "seconds": round(seconds, 3),
        "configs_per_s": round(configs / seconds, 1),
        "cpu_seconds": round(cpu_seconds, 3),
        "configs_per_cpu_s": round(configs / cpu_seconds, 1),
        "lint_errors_and_problems": errors,
        "largest_bootstrap_bytes": bootstrap_bytes,
        "largest_full_bytes": full_bytes,
        "queries_per_site": sorted({s["queries"] for s in per_site}),
        "rss_mb_first_site": rss[0],
        "rss_mb_last_site": rss[-1],
        "rss_mb_growth_second_half": round(max(rss[half:]) - rss[half - 1], 1) if half else 0,
        "per_site": per_site,
    }


def lint_parsers(sites) -> dict:
    """The fast IOS hierarchy vs ciscoconfparse2 on the same full configs."""
    from turnup.configs.context import PLATFORM_IOSXE
    from turnup.configs.lint import lint_config
    from turnup.configs.rendering import render_config
    from turnup.configs.selectors import site_render_context, template_environment

    env = template_environment()
    contexts = [
        c for c in site_render_context(site=sites[0]).devices if c.platform == PLATFORM_IOSXE
    ]
    texts = [(c, render_config(context=c, kind="full", env=env)) for c in contexts]
    out = {}
    for parser in ("fast", "ciscoconfparse2"):
        t0 = time.perf_counter()
        for context, text in texts:
            lint_config(text=text, context=context, kind="full", parser=parser)
        out[f"ios_full_lint_ms_{parser}"] = round((time.perf_counter() - t0) / len(texts) * 1000, 3)
    return out


def main() -> None:
    data = setup()
    from django.conf import settings

    t0 = time.perf_counter()
    sites = build()
    build_seconds = time.perf_counter() - t0
    load_before = os.getloadavg()[0]
    warm = render_pass(sites[:1], store=False)  # first compile of the templates, hash caches
    result = render_pass(sites, store=False)
    report = {
        "benchmark": "render",
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "sites": len(sites),
        "routers": len(sites) * PER_SITE,
        "build_seconds": round(build_seconds, 1),
        "warmup_seconds": warm["seconds"],
        "target_configs_per_s": 500,
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "render_and_lint": result,
        **lint_parsers(sites),
    }
    if STORE:
        report["render_lint_store"] = render_pass(sites, store=True)
        report["render_lint_store_unchanged"] = render_pass(sites, store=True)
    print(json.dumps(report, indent=2))
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
