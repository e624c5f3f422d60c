"""Benchmark: instantiate a 50-device site from the shipped ``aggregation`` blueprint.

50 devices = 2 aggregation routers (QFX5120) + 46 edge routers (C8300) + 2 console servers
(CM7148): 96 interface links, 48 console cables, ~190 addresses, 47 ASNs, ~190 BGP sessions,
all in one transaction. Prints JSON: seconds and SQL queries for the dry run, the
instantiation, the idempotent re-run, and a plan after a parameter change. Target: the
instantiation in under 1 s on PostgreSQL. ``instantiate_python_cpu_s`` is this process's CPU
time (the rest of the wall time is the database and, on a busy machine, waiting for a CPU:
``load_average_1m`` says how busy it was).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/blueprint.py
    .venv/bin/python bench/blueprint.py          # SQLite in a temporary folder

BENCH_RUNS (default 3): how many fresh sites to build (the median is reported).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
EDGES = 46


def setup() -> None:
    data = Path(tempfile.mkdtemp(prefix="turnup-bench-blueprint-"))
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("TURNUP_SECRETS_KEY", "bench-only-secrets-key-0123456789")
    os.environ["TURNUP_DATA_DIR"] = str(data)
    os.environ.setdefault("DATABASE_URL", "")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "turnup.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(function, **kwargs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        result = function(**kwargs)
        seconds = time.perf_counter() - started
    timed.cpu = time.process_time() - cpu
    return result, seconds, len(queries)


def main() -> None:
    setup()
    from django.db import connection

    from turnup.blueprints.selectors import blueprint_get
    from turnup.blueprints.services import (
        blueprint_instantiate,
        blueprint_library_sync,
        blueprint_plan,
    )
    from turnup.dcim.models import Device

    blueprint_library_sync()
    blueprint = blueprint_get(name="aggregation")
    tag = "".join(chr(65 + int(c, 16) % 26) for c in uuid.uuid4().hex[:3])
    # warm-up: shipped device types, pools, ASN range created once
    blueprint_instantiate(
        blueprint=blueprint, params={"name": f"W{tag}-000", "edge_count": 1}, apply=True
    )
    runs = []
    for run in range(RUNS):
        params = {"name": f"B{tag}-{run:03d}", "edge_count": EDGES, "console_servers": 2}
        plan, plan_s, plan_q = timed(blueprint_plan, blueprint=blueprint, params=params)
        applied, apply_s, apply_q = timed(
            blueprint_instantiate, blueprint=blueprint, params=params, apply=True
        )
        apply_cpu = timed.cpu
        rerun, rerun_s, rerun_q = timed(
            blueprint_instantiate, blueprint=blueprint, params=params, apply=True
        )
        changed = {**params, "edge_count": EDGES - 1}
        change_plan, change_s, change_q = timed(blueprint_plan, blueprint=blueprint, params=changed)
        devices = Device.objects.filter(site__name=params["name"]).count()
        assert devices == 50, devices
        assert applied.applied and not rerun.has_changes
        runs.append(
            {
                "site": params["name"],
                "devices": devices,
                "plan_items": len(plan.items),
                "dry_run_s": round(plan_s, 3),
                "dry_run_queries": plan_q,
                "instantiate_s": round(apply_s, 3),
                "instantiate_queries": apply_q,
                "instantiate_python_cpu_s": round(apply_cpu, 3),
                "rerun_s": round(rerun_s, 3),
                "rerun_queries": rerun_q,
                "rerun_changes": rerun.counts["create"] + rerun.counts["change"],
                "changed_params_plan_s": round(change_s, 3),
                "changed_params_plan_queries": change_q,
            }
        )
    median = statistics.median(r["instantiate_s"] for r in runs)
    print(
        json.dumps(
            {
                "benchmark": "blueprint instantiate, aggregation, 50 devices",
                "database": connection.vendor,
                "runs": runs,
                "instantiate_median_s": round(median, 3),
                "target_s": 1.0,
                "meets_target": median < 1.0,
                "load_average_1m": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
