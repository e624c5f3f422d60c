"""Benchmark: a whole site turn-up through the real graph, worker and broker (prints JSON).

N factory-fresh IOS-XE lab routers behind M console servers (16 lines each) at 9600 baud,
turned up by ``run_start`` → the Celery graph → ``--workers`` separate ``celery worker``
processes (threads pool; default 1) on the embedded SQLite broker (or ``BENCH_REDIS_URL``;
``BENCH_DATABASE_URL`` must name an empty database), with the database
from ``BENCH_DATABASE_URL`` (default: a fresh SQLite file). The lab runs in this process at
time scale 1 (router delays as the lab simulates them).

Reported per phase (step): bytes, seconds (mean / max over routers) and, for the console
bootstrap, the achieved fraction of the line rate; the whole run against its physical limit:
the slowest router's bootstrap bytes ÷ line rate + the processing time the lab charged that
router during the run (key generation, write memory, every config line and show command, on
the console and over the management network) — what no driver could save. For comparison
with earlier runs, also against a lenient limit that takes the management phase as measured
(our SSH sessions included) instead of as simulated.

    .venv/bin/python bench/turnup.py --routers 20 --servers 2 [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _turnup_site import approved_site, django_setup  # noqa: E402

IOS_COMMIT_SECONDS = 1.5  # the lab's `write memory` cost (turnup/lab/iosxe.py COST_WRITE)


class LabThread:
    def __init__(self, config: dict):
        from turnup.lab.lab import Lab

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lab = self._run(self._make(Lab, config))
        self._run(self.lab.start())

    async def _make(self, cls, config):
        return cls(config)

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def busy_seconds(self) -> dict[str, float]:
        """Router seconds of processing the lab has charged each router so far."""
        return self._run(self._busy())

    async def _busy(self) -> dict[str, float]:
        return {name: router.busy_seconds for name, router in self.lab.routers.items()}

    def wait_booted(self, timeout: float = 120) -> None:
        """Until every router has booted to its factory prompt: the run starts on routers that
        were powered on before it, as on a site, not on boot messages still coming."""
        deadline = time.monotonic() + timeout
        while self._run(self._booting()) and time.monotonic() < deadline:
            time.sleep(0.1)

    async def _booting(self) -> list[str]:
        return [
            name
            for name, router in self.lab.routers.items()
            if router.state() in ("off", "booting", "reloading")
        ]

    def close(self):
        self._run(self.lab.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def process_cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores of the machine have spent not idle so far (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_sample(workers: list[subprocess.Popen]) -> dict[str, float]:
    return {
        "workers": sum(process_cpu_seconds(worker.pid) for worker in workers),
        "bench": process_cpu_seconds(),
        "machine": machine_busy_seconds(),
    }


def python_loop_seconds(iterations: int = 10_000_000) -> float:
    """How fast this machine runs Python, to compare runs across machines: the seconds a
    plain loop of ``iterations`` additions takes (best of three), timed before the lab and
    the workers start. The same code ran the 20-router turn-up in 5.7–6.3 s on one machine
    of this kind and in 6.9–7.8 s on the next."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(iterations):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def cpu_report(before: dict, after: dict, *, wall: float, routers: int) -> dict:
    """Where the CPU went during the run, and the floor it sets: the run cannot end sooner
    than the CPU work it needs divided by the cores, whatever the line rate allows."""
    used = {key: after[key] - before[key] for key in before}
    cores = os.cpu_count() or 1
    return {
        "cores": cores,
        "workers_seconds": round(used["workers"], 2),
        "lab_and_bench_process_seconds": round(used["bench"], 2),
        "machine_busy_seconds": round(used["machine"], 2),
        "machine_busy_fraction": round(used["machine"] / (wall * cores), 3),
        "workers_seconds_per_router": round(used["workers"] / routers, 3),
        "machine_seconds_per_router": round(used["machine"] / routers, 3),
        "cpu_floor_seconds": round(used["machine"] / cores, 2),
    }


def workers_ready(workers: list[subprocess.Popen], *, broadcast: bool, timeout: float = 120):
    """Wait until the workers are ready: the run's clock starts on a ready pool, not on
    processes still importing (two workers starting at once on 2 cores take seconds). Over
    Redis every worker answers a ping; the embedded broker has no broadcast, so there a worker
    is ready once it stops using CPU for a second (start-up done, waiting for tasks)."""
    from turnup.celery import app

    deadline = time.monotonic() + timeout
    if broadcast:
        while time.monotonic() < deadline:
            if len(app.control.ping(timeout=0.5)) >= len(workers):
                time.sleep(1)  # the start-up work after "ready" (recovery thread) settles
                return
    else:
        time.sleep(2)
        before = [process_cpu_seconds(w.pid) for w in workers]
        while time.monotonic() < deadline:
            time.sleep(1)
            now = [process_cpu_seconds(w.pid) for w in workers]
            if all(b - a < 0.05 for a, b in zip(before, now, strict=True)):
                return
            before = now
    raise SystemExit(f"the {len(workers)} workers were not ready within {timeout:.0f} s")


def warm_up(site) -> None:
    """The run's clock starts in a warm process, as a web server's would be after its first
    request: the result backend's client imported (0.09 s on first use) and the site's
    templates compiled by a render, as an engineer previewing the configs does (0.09 s)."""
    from turnup.celery import app
    from turnup.configs.services import site_render

    app.backend  # noqa: B018 - imports the backend's module and client
    site_render(site=site, store=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--routers", type=int, default=20)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument(
        "--console-method",
        choices=["telnet", "ssh"],
        default="telnet",
        help="how the console servers are reached (ssh: a port per line, the line in the user)",
    )
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (threads pool each)"
    )
    parser.add_argument(
        "--worker-logs", default="", help="a folder for the workers' logs (INFO level)"
    )
    args = parser.parse_args()
    loop_seconds = python_loop_seconds()  # on a machine nothing of the bench runs on yet

    data_dir = Path(tempfile.mkdtemp(prefix="bench-turnup-"))
    env = django_setup(
        data_dir,
        database_url=os.environ.get("BENCH_DATABASE_URL", ""),
        broker_url=os.environ.get("BENCH_REDIS_URL", ""),
    )
    from django.utils import timezone

    from turnup.lab.design import site_lab_config
    from turnup.provisioning.models import RUN_FINISHED, Run, Step
    from turnup.provisioning.services import run_start

    site = approved_site(
        name="BEN-01",
        routers=args.routers,
        servers=args.servers,
        baud=args.baud,
        console_method=args.console_method,
    )
    config = site_lab_config(site=site, time_scale=1.0)
    config["control"] = "127.0.0.1:0"
    for router in config["routers"]:
        router["options"] = {"pnp_messages": False}
    from turnup.celery import app

    app.control.purge()  # what an interrupted earlier run left in the broker's queue
    lab = LabThread(config)
    per_worker = -(-args.routers // args.workers)  # ceiling: every router gets a thread
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "turnup",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(per_worker + 4),
                "--hostname",
                f"bench{index}@%h",
                "--loglevel",
                "INFO" if args.worker_logs else "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(
                open(Path(args.worker_logs) / f"worker{index}.log", "w")  # noqa: SIM115
                if args.worker_logs
                else subprocess.DEVNULL
            ),
        )
        for index in range(args.workers)
    ]
    try:
        workers_ready(workers, broadcast=bool(env["CELERY_BROKER_URL"]))
        lab.wait_booted()
        warm_up(site)
        busy_before = lab.busy_seconds()
        cpu_before = cpu_sample(workers)
        clock_started = timezone.now()
        started = time.monotonic()
        run = run_start(site=site)
        run_start_seconds = time.monotonic() - started
        deadline = started + args.timeout
        # the status column only: the whole row (200 routers' config versions in JSON) read
        # every 50 ms cost the machine's CPU the run is measured on
        finished = Run.objects.filter(pk=run.pk, status__in=RUN_FINISHED)
        while not finished.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        wall = time.monotonic() - started
        cpu = cpu_report(cpu_before, cpu_sample(workers), wall=wall, routers=args.routers)
        cpu["python_loop_seconds"] = loop_seconds
        busy = {k: v - busy_before.get(k, 0.0) for k, v in lab.busy_seconds().items()}
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
        lab.close()

    run = Run.objects.get(pk=run.pk)
    steps = list(Step.objects.filter(run=run).select_related("device"))
    rate = args.baud / 10
    phases = {}
    for name in ("bootstrap", "full_config", "verify", "confirm", "archive"):
        rows = [s for s in steps if s.name == name and s.seconds is not None]
        if not rows:
            continue
        entry = {
            "bytes": sum(s.bytes_pushed for s in rows),
            "seconds_mean": round(sum(s.seconds for s in rows) / len(rows), 2),
            "seconds_max": round(max(s.seconds for s in rows), 2),
        }
        if name == "bootstrap":
            pushes = [s.result.get("push_seconds") or 0 for s in rows]
            fractions = [s.result.get("line_rate_fraction") for s in rows]
            fractions = [f for f in fractions if f]
            entry["push_seconds_max"] = round(max(pushes), 2)
            entry["line_rate_fraction_mean"] = (
                round(sum(fractions) / len(fractions), 3) if fractions else None
            )
            entry["line_rate_fraction_min"] = round(min(fractions), 3) if fractions else None
            for sub in (
                "render",
                "claim_line",
                "wake_login",
                "bootstrap",
                "commit_confirmed",
                "release_line",
            ):
                values = [s.phases.get(sub, 0.0) for s in rows]
                entry[f"{sub}_seconds_max"] = round(max(values), 2)
        if name != "bootstrap":
            # opening the router's management session (full_config) or taking it over
            reached = [s.phases.get("reach_mgmt", 0.0) for s in rows]
            entry["reach_mgmt_seconds_max"] = round(max(reached), 2)
        phases[name] = entry
    by_device: dict[str, dict[str, Step]] = {}
    for step in steps:
        by_device.setdefault(step.device.name, {})[step.name] = step
    # where the time between the steps goes: queueing hops of the graph, and the part of a
    # step its recorded phases do not cover (rendering, database writes, session setup)
    hops, outside = [], []
    for device_steps in by_device.values():
        ordered = sorted(device_steps.values(), key=lambda s: s.order)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if before.finished and after.started:
                hops.append((after.started - before.finished).total_seconds())
        for step in ordered:
            if step.seconds is not None and step.phases:
                outside.append(step.seconds - sum(step.phases.values()))
    starts = [s.started for s in steps if s.started]
    boots = [s.started for s in steps if s.started and s.name == "bootstrap"]
    limits, lenient = [], []
    for name, device_steps in by_device.items():
        boot = device_steps.get("bootstrap")
        if boot is None:
            continue
        # the physical limit: the bootstrap's bytes at the line rate + every second of
        # processing the lab charged the router (key generation, write memory, each config
        # line, show commands) over the console and the management network
        limits.append(boot.bytes_total / rate + busy.get(name, 0.0))
        mgmt = sum(
            (device_steps[n].seconds or 0)
            for n in ("full_config", "verify", "confirm", "archive")
            if n in device_steps
        )
        lenient.append(boot.bytes_total / rate + IOS_COMMIT_SECONDS + mgmt)
    limit = max(limits) if limits else None
    with_mgmt = max(lenient) if lenient else None
    print(
        json.dumps(
            {
                "bench": "turnup",
                "routers": args.routers,
                "console_servers": args.servers,
                "worker_processes": args.workers,
                "baud": args.baud,
                "console_method": args.console_method,
                "line_rate_bytes_per_second": rate,
                "broker": "redis" if env["CELERY_BROKER_URL"] else "embedded sqlite",
                "database": "postgresql" if env["DATABASE_URL"] else "sqlite",
                "status": run.status,
                "failed": run.summary.get("failed"),
                "run_seconds": round(wall, 2),
                "physical_limit_seconds": round(limit, 2) if limit else None,
                "run_over_limit": round(wall / limit, 3) if limit else None,
                "router_busy_seconds_max": round(max(busy.values()), 2) if busy else None,
                "limit_with_measured_management_seconds": (
                    round(with_mgmt, 2) if with_mgmt else None
                ),
                "run_over_limit_with_measured_management": (
                    round(wall / with_mgmt, 3) if with_mgmt else None
                ),
                "cpu": cpu,
                "phases": phases,
                "graph": {
                    "hop_seconds_mean": round(sum(hops) / len(hops), 3) if hops else None,
                    "hop_seconds_max": round(max(hops), 3) if hops else None,
                    "outside_phases_seconds_mean": (
                        round(sum(outside) / len(outside), 3) if outside else None
                    ),
                    "first_step_started_after_seconds": (
                        round((min(starts) - run.created).total_seconds(), 3) if starts else None
                    ),
                    # on the run's clock: what run_start costs (checks, rendering, the graph
                    # sent) and how long the routers wait for their first step
                    "run_start_seconds": round(run_start_seconds, 3),
                    "bootstraps_started_seconds": (
                        {
                            "first": round((min(boots) - clock_started).total_seconds(), 3),
                            "last": round((max(boots) - clock_started).total_seconds(), 3),
                        }
                        if boots
                        else None
                    ),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
