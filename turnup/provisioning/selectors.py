"""Reads of provisioning: runs, their steps, and per-device progress for live displays
(the CLI's ``turnup up`` and the web board). Each costs a constant number of queries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from turnup.provisioning.models import (
    STEP_ORDER,
    ConsoleLineLock,
    Run,
    RunStatus,
    Step,
    StepName,
    StepStatus,
)


def run_list(*, site_id: int | None = None) -> QuerySet[Run]:
    runs = Run.objects.select_related("site", "requested_by")
    if site_id is not None:
        runs = runs.filter(site_id=site_id)
    return runs


def run_lldp_peers(*, run_id: int) -> set[str]:
    """The routers of a run whose full config is in: they run LLDP by now. One query."""
    done = Step.objects.filter(run_id=run_id, name=StepName.FULL_CONFIG, status=StepStatus.DONE)
    return set(done.values_list("device__name", flat=True))


def full_config_pending(*, run_id: int, device_id: int) -> bool:
    """Whether a rollback timer may run over the router's full config for its confirm to
    stop: the step's own, or an earlier attempt's (``confirm_pending`` in its result). One
    query."""
    result = (
        Step.objects.filter(run_id=run_id, device_id=device_id, name=StepName.FULL_CONFIG)
        .values_list("result", flat=True)
        .first()
    )
    return bool((result or {}).get("confirm_pending"))


def site_cabling_verdicts(*, site_id: int) -> dict[tuple[int, str], str]:
    """What the site's latest turn-up saw of its cables over LLDP: (device id, port) → the
    verify step's verdict (``as designed``, ``not seen``, ``otherwise``). One query; empty
    before any router was verified."""
    latest = Run.objects.filter(site_id=site_id).order_by("-created").values("pk")[:1]
    rows = Step.objects.filter(run_id=Subquery(latest), name=StepName.VERIFY).values_list(
        "device_id", "result"
    )
    return {
        (device_id, port): verdict
        for device_id, result in rows
        for port, verdict in (result or {}).get("checks", {}).get("cabling", {}).items()
    }


def run_with_steps() -> QuerySet[Run]:
    """Runs with their steps and the steps' devices (two queries for any number of runs)."""
    return run_list().prefetch_related(
        Prefetch(
            "steps",
            queryset=Step.objects.select_related("device").order_by(
                "stage", "device__name", "order"
            ),
        )
    )


@dataclass(frozen=True)
class DeviceProgress:
    """Where one router is in a run."""

    device_id: int
    device: str
    stage: int
    step: str  # the current step (running), else the first not done, else the last
    status: str  # pending | running | done | failed | skipped (of the device as a whole)
    steps_done: int
    steps_total: int
    bytes_pushed: int
    bytes_total: int
    elapsed: float  # seconds since the device's first step started (until its last finished)
    reason: str = ""
    message: str = ""
    log_tail: list[str] = field(default_factory=list)


def run_progress(*, run: Run, log_lines: int = 5) -> list[DeviceProgress]:
    """Per-device progress of ``run``: its current step, bytes pushed of the bytes to push
    over all its steps, elapsed time, the last log lines and the result. One query."""
    steps = list(
        Step.objects.filter(run=run)
        .select_related("device")
        .order_by("stage", "device__name", "order")
    )
    now = timezone.now()
    by_device: dict[int, list[Step]] = {}
    for step in steps:
        by_device.setdefault(step.device_id, []).append(step)
    out = []
    for device_steps in by_device.values():
        first = device_steps[0]
        statuses = [s.status for s in device_steps]
        current = (
            next((s for s in device_steps if s.status == StepStatus.RUNNING), None)
            or next((s for s in device_steps if s.status != StepStatus.DONE), None)
            or device_steps[-1]
        )
        if StepStatus.FAILED in statuses:
            status = StepStatus.FAILED
        elif all(s == StepStatus.DONE for s in statuses):
            status = StepStatus.DONE
        elif StepStatus.RUNNING in statuses or StepStatus.DONE in statuses:
            status = StepStatus.RUNNING
        elif all(s == StepStatus.SKIPPED for s in statuses):
            status = StepStatus.SKIPPED
        else:
            status = StepStatus.PENDING
        started = [s.started for s in device_steps if s.started]
        finished = [s.finished for s in device_steps if s.finished]
        end = now if status in (StepStatus.RUNNING,) or not finished else max(finished)
        elapsed = (end - min(started)).total_seconds() if started else 0.0
        failed = next((s for s in device_steps if s.status == StepStatus.FAILED), None)
        shown = failed or current
        log = "\n".join(s.log for s in device_steps if s.log)
        out.append(
            DeviceProgress(
                device_id=first.device_id,
                device=first.device.name,
                stage=first.stage,
                step=current.name,
                status=status,
                steps_done=statuses.count(StepStatus.DONE),
                steps_total=len(STEP_ORDER),
                bytes_pushed=sum(s.bytes_pushed for s in device_steps),
                bytes_total=sum(s.bytes_total for s in device_steps),
                elapsed=round(max(elapsed, 0.0), 1),
                reason=shown.reason,
                message=shown.message,
                log_tail=[line for line in log.splitlines() if line.strip()][-log_lines:],
            )
        )
    return out


def run_progress_dict(*, run: Run) -> list[dict[str, Any]]:
    return [asdict(item) for item in run_progress(run=run)]


#: Upper bounds (seconds) of the step duration histogram on /metrics: a console bootstrap at
#: 9600 baud takes from seconds to minutes, a management step seconds, a verify that waits
#: for LLDP up to a minute.
STEP_SECONDS_BUCKETS: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)


@dataclass(frozen=True)
class StepSeconds:
    """How long a step's finished runs took: ``buckets[i]`` took at most
    ``STEP_SECONDS_BUCKETS[i]`` seconds (cumulative, as Prometheus counts them)."""

    buckets: tuple[int, ...]
    count: int
    total: float


@dataclass(frozen=True)
class TurnupTotals:
    """What ``/metrics`` tells of turn-ups (see ``core.metrics.TurnupCollector``)."""

    runs: dict[str, int]  # run status -> runs (every status, 0 included)
    steps: dict[tuple[str, str], int]  # (step, status) -> steps (every pair, 0 included)
    failures: dict[tuple[str, str], int]  # (step, reason) -> failed steps
    seconds: dict[str, StepSeconds]  # step -> durations of the steps done
    lines_held: dict[str, int]  # console server -> lines a session holds now
    buckets: tuple[float, ...] = STEP_SECONDS_BUCKETS


def turnup_totals() -> TurnupTotals:
    """Runs by status, steps by status, failed steps by reason, how long the steps that
    finished took, and the console lines held now, over every run on record. Four queries,
    whatever the number of runs."""
    runs = dict.fromkeys(RunStatus.values, 0)
    runs.update(Run.objects.order_by().values_list("status").annotate(n=Count("id")))
    steps = {(name, status): 0 for name in STEP_ORDER for status in StepStatus.values}
    failures: dict[tuple[str, str], int] = {}
    rows = Step.objects.order_by().values_list("name", "status", "reason").annotate(n=Count("id"))
    for name, status, reason, n in rows:
        steps[(name, status)] = steps.get((name, status), 0) + n
        if status == StepStatus.FAILED:
            key = (name, reason or "unknown")
            failures[key] = failures.get(key, 0) + n
    bounds = {
        f"le_{index}": Count("id", filter=Q(seconds__lte=bound))
        for index, bound in enumerate(STEP_SECONDS_BUCKETS)
    }
    done = (
        Step.objects.filter(status=StepStatus.DONE, seconds__isnull=False)
        .order_by()
        .values("name")
        .annotate(count=Count("id"), total=Sum("seconds"), **bounds)
    )
    seconds = {
        row["name"]: StepSeconds(
            buckets=tuple(row[key] for key in bounds), count=row["count"], total=row["total"]
        )
        for row in done
    }
    held = ConsoleLineLock.objects.filter(expires_at__gt=timezone.now()).order_by()
    lines_held = dict(held.values_list("server").annotate(n=Count("id")))
    return TurnupTotals(
        runs=runs, steps=steps, failures=failures, seconds=seconds, lines_held=lines_held
    )
