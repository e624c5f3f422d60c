"""The turn-up board's state, from plain data (no database): one card per device with its
current step, progress, elapsed time, last console lines and result.

``web.selectors.run_board`` reads a run and its steps and feeds ``board_state``; the page
renders the first state and ``static/web/board.js`` polls the same dict as JSON every second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "skipped"})
RUN_TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
LOG_LINES = 6

STEP_LABELS = {
    "claim": "Claiming the console line",
    "claim_line": "Claiming the console line",
    "wake": "Waking the console",
    "login": "Logging in on the console",
    "bootstrap": "Pushing the bootstrap over the console",
    "commit": "Committing (confirmed)",
    "commit_confirmed": "Committing (confirmed)",
    "reach": "Reaching it over management",
    "reach_mgmt": "Reaching it over management",
    "full": "Pushing the full config over management",
    "full_config": "Pushing the full config over management",
    "confirm": "Confirming and saving",
    "save": "Confirming and saving",
    "verify": "Verifying over management",
    "archive": "Archiving the running config",
    "settle": "Settling the site",
}


@dataclass(frozen=True)
class StepData:
    """One step of one device, as the provisioning app records it."""

    device_id: int
    device: str
    name: str
    status: str  # pending | running | succeeded | failed | cancelled | skipped
    order: int = 0
    attempts: int = 0
    started: datetime | None = None
    finished: datetime | None = None
    bytes_sent: int = 0
    bytes_total: int = 0
    baud: int = 0
    log: str = ""
    error: str = ""
    label: str = ""
    phases: tuple[tuple[str, float], ...] = ()
    console: str = ""  # "lon-01-cs1 line 3 · tcp 2003"
    finding: str = ""  # archive: what the running config lacks of the rendered one


@dataclass(frozen=True)
class RunData:
    id: int
    status: str
    started: datetime | None = None
    finished: datetime | None = None
    by: str = ""
    error: str = ""
    steps: tuple[StepData, ...] = field(default_factory=tuple)


def _seconds(start: datetime | None, end: datetime | None, now: datetime) -> float | None:
    if start is None:
        return None
    return max(0.0, ((end or now) - start).total_seconds())


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


def _label(step: StepData) -> str:
    return step.label or STEP_LABELS.get(step.name, step.name.replace("_", " ").capitalize())


def _device_status(steps: list[StepData]) -> str:
    statuses = {s.status for s in steps}
    if "failed" in statuses:
        return "failed"
    if "running" in statuses:
        return "running"
    if statuses and statuses <= {"succeeded", "skipped"}:
        return "succeeded"
    if "cancelled" in statuses:
        return "cancelled"
    if "succeeded" in statuses:
        return "running"  # between two steps
    return "pending"


RUN_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
PHASE_LABELS = {
    "claim_line": "claim",
    "wake_login": "wake+login",
    "bootstrap": "push",
    "commit_confirmed": "commit",
}


def _bytes_text(steps: list[StepData]) -> str:
    """While a push runs: ``300 / 1200 B · ~1s left at 9600 baud``. After: what went over
    the console and over the management network."""
    running = next((s for s in steps if s.status == "running" and s.bytes_total), None)
    if running is not None:
        rate = running.baud / 10 if running.baud else 0
        at = f" at {running.baud} baud" if running.baud else ""
        left = running.bytes_total - running.bytes_sent
        eta = ""
        if rate and left > 0:
            eta = _fmt(left / rate) if left / rate >= 1 else "<1s"
        if not running.bytes_sent:  # still waking or logging in: what the push will cost
            return f"{running.bytes_total} B to push" + (f" (~{eta}{at})" if eta else at)
        text = f"{running.bytes_sent} / {running.bytes_total} B"
        return text + (f" · ~{eta} left" if eta else "") + at
    parts = []
    for step in steps:
        if not step.bytes_sent:
            continue
        if step.baud:
            parts.append(f"console {step.bytes_sent} B at {step.baud} baud")
        else:
            parts.append(f"management {step.bytes_sent} B")
    return " · ".join(parts)


def _phases_text(step: StepData | None) -> str:
    if step is None or not step.phases:
        return ""
    order = list(PHASE_LABELS)
    phases = sorted(
        step.phases, key=lambda p: (order.index(p[0]) if p[0] in order else len(order), p[0])
    )
    return " · ".join(
        f"{PHASE_LABELS.get(name, name.replace('_', ' '))} {seconds:.1f}s"
        for name, seconds in phases
    )


STATUS_LABELS = {
    "pending": "Waiting",
    "queued": "Queued",
    "running": "Running",
    "succeeded": "Live",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def board_state(run: RunData, *, now: datetime) -> dict:
    """The JSON the board renders: the run's head and one entry per device."""
    by_device: dict[int, list[StepData]] = {}
    for step in sorted(run.steps, key=lambda s: (s.device, s.order)):
        by_device.setdefault(step.device_id, []).append(step)
    devices = []
    for device_id, steps in by_device.items():
        status = _device_status(steps)
        current = (
            next((s for s in steps if s.status == "running"), None)
            or next((s for s in steps if s.status == "failed"), None)
            or next((s for s in steps if s.status not in TERMINAL), None)
            or steps[-1]
        )
        pushing = next((s for s in steps if s.status == "running" and s.bytes_total), None) or next(
            (s for s in reversed(steps) if s.bytes_total), None
        )
        done = sum(1 for s in steps if s.status == "succeeded")
        if status == "succeeded":
            percent = 100.0
        elif pushing is not None and pushing.status == "running":
            percent = 100.0 * min(pushing.bytes_sent, pushing.bytes_total) / pushing.bytes_total
        else:
            percent = 100.0 * done / len(steps)
        started = min((s.started for s in steps if s.started), default=None)
        finished = (
            max((s.finished for s in steps if s.finished), default=None)
            if status in TERMINAL
            else None
        )
        elapsed = _seconds(started, finished, now)
        log = "\n".join(s.log for s in steps if s.log)
        failed = next((s for s in steps if s.status == "failed"), None)
        finding = next((s.finding for s in steps if s.finding), "")
        if status == "succeeded":
            result = f"live — {done} steps verified"
            if finding:
                result += f" · {finding}"
        elif failed is not None:
            result = f"{_label(failed)}: {failed.error or 'failed'}"
            if failed.attempts > 1:
                result += f" (after {failed.attempts} attempts)"
        else:
            result = ""
        devices.append(
            {
                "device_id": device_id,
                "device": steps[0].device,
                "status": status,
                "status_label": STATUS_LABELS.get(status, status),
                "step": current.name,
                "step_label": _label(current) if status not in ("succeeded",) else "Done",
                "steps": [{"name": s.name, "label": _label(s), "status": s.status} for s in steps],
                "percent": round(percent, 1),
                "bytes_sent": pushing.bytes_sent if pushing else 0,
                "bytes_total": pushing.bytes_total if pushing else 0,
                "baud": pushing.baud if pushing else 0,
                "line_rate": (pushing.baud / 10) if pushing and pushing.baud else 0,
                "bytes_text": _bytes_text(steps),
                "console": next((s.console for s in steps if s.console), ""),
                "phases_text": _phases_text(
                    next((s for s in steps if s.phases and s.baud), None)
                    or next((s for s in steps if s.phases), None)
                ),
                "elapsed": elapsed,
                "elapsed_text": _fmt(elapsed),
                "log_tail": log.splitlines()[-LOG_LINES:],
                "result": result,
                "finding": bool(finding),
            }
        )
    devices.sort(key=lambda d: d["device"])
    counts = {key: 0 for key in ("succeeded", "failed", "running", "pending", "cancelled")}
    for device in devices:
        counts[device["status"]] = counts.get(device["status"], 0) + 1
    elapsed = _seconds(run.started, run.finished if run.status in RUN_TERMINAL else None, now)
    return {
        "run": {
            "id": run.id,
            "status": run.status,
            "status_label": RUN_LABELS.get(run.status, run.status),
            "terminal": run.status in RUN_TERMINAL,
            "started_text": run.started.strftime("%Y-%m-%d %H:%M:%S") if run.started else "",
            "elapsed": elapsed,
            "elapsed_text": _fmt(elapsed),
            "by": run.by,
            "error": run.error,
            "failed": counts["failed"],
            "counts": counts,
            "counts_text": f"{counts['succeeded']}/{len(devices)} live"
            + (f" · {counts['running']} running" if counts["running"] else "")
            + (f" · {counts['failed']} failed" if counts["failed"] else ""),
        },
        "devices": devices,
    }
