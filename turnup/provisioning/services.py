"""Writes of provisioning: start, cancel, retry and settle a site turn-up, and run one step.

A Run has one Step per router and step name (``models.STEP_ORDER``); ``workflows.py`` builds
the Celery graph, whose tasks call ``device_turnup_step`` and ``run_settle`` here.

Every step is idempotent and safe with ``acks_late`` and redelivery:

* it re-reads its Step row under a row lock; a finished step returns at once;
* a running step whose heartbeat is fresh belongs to another execution: the duplicate waits
  for it; a stale heartbeat (its worker died) is taken over, attempt + 1;
* a delivery whose step was taken over (its heartbeat lagged) stops at its next fence,
  before it pushes or commits (``_fence``), and writes nothing on the step;
* what it pushes is what the router lacks (the drivers compare running and rendered config),
  and a bootstrap that is taken over first looks over the management network, so a router
  whose console push completed before the crash is not touched on the console again.

A step never raises for a router's failure: it records ``failed`` with a stable ``reason``
and returns, so one bad router never breaks the chord and the others carry on.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import math
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Case, F, FloatField, PositiveIntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.errors import ApplicationError, ConflictError, NotFoundError
from turnup.core.locks import is_deadlock, lease_acquire, lease_release
from turnup.dcim import selectors as dcim_selectors
from turnup.dcim.choices import DeviceStatus, SiteStatus
from turnup.dcim.models import Device, Site
from turnup.dcim.services import device_status_set, site_transition
from turnup.events.constants import TOPIC_DEVICE_TURNED_UP, TOPIC_RUN_FINISHED
from turnup.events.services import event_record
from turnup.provisioning import selectors
from turnup.provisioning.drivers.base import (
    PARKED_SESSIONS,
    ConsoleTarget,
    Credentials,
    DriverError,
    InterfaceExpectation,
    ManagementTarget,
    line_rate,
    scrub,
)
from turnup.provisioning.drivers.console import ChannelClosed
from turnup.provisioning.models import (
    STEP_FINISHED,
    STEP_ORDER,
    ConsoleLineLock,
    Run,
    RunStatus,
    Step,
    StepName,
    StepStatus,
)

log = logging.getLogger(__name__)

# -- time budgets (CONSOLE-FACTS.md §4): every step limit is derived from these -------------
# Logging in on a console: netmiko's Cisco telnet login 8.7 s, 43 s behind an autoinstall
# prompt; PyEZ's console login 15-16 s. Wake + login + prompt preparation get this much.
CONSOLE_LOGIN_SECONDS = 60.0
# The console writer reaches ~0.9 of the line rate; a resumed push first reads the running
# config back (~1.1 s per KB at 9600): budget each byte twice at the raw rate.
CONSOLE_BYTE_FACTOR = 2.0
# A commit on the console (Junos `commit confirmed` > 30 s on big boxes; IOS `reload in`).
CONSOLE_COMMIT_SECONDS = 60.0
# Management: SSH handshake + login (28 ms on loopback; 7-10 RTTs on a WAN) with margin.
MGMT_LOGIN_SECONDS = 30.0
# Pushing over SSH/NETCONF: netmiko's send_config_set waits for every echo; assume a slow
# management path of 2 KB/s (the lab and a LAN do much better).
MGMT_BYTES_PER_SECOND = 2000.0
# `write memory` (netmiko raised Cisco save_config to 100 s) / a Junos confirming commit.
MGMT_COMMIT_SECONDS = 100.0
# A step's heartbeat: written every HEARTBEAT_SECONDS; older than STALE_SECONDS means the
# worker running it is gone and the step may be taken over.
HEARTBEAT_SECONDS = 2.0
PROGRESS_SECONDS = 0.5  # how often a running push's bytes reach its Step (the live board)
STALE_SECONDS = 15.0
# Retryable driver failures (busy line, dropped line, no answer, unreachable) are tried
# again inside the step, at most this many attempts in all, RETRY_PAUSE seconds apart.
MAX_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 2.0
# Not retryable for the driver (it did not repair the line) but worth a fresh session: the
# step resumes with what the router lacks.
RETRY_ALSO = {"echo_mismatch"}
# At most this many sessions at once on one console server (its CPU and uplink are shared).
CONSOLE_SERVER_SESSIONS = 32
# Management sessions (SSH / NETCONF) being opened at once in one worker process. Their key
# exchanges are CPU work: two hundred at once on a small machine starve each other past
# their time limits, so steps queue for a slot to open one (the wait does not count against
# their limit); an open session holds no slot.
MANAGEMENT_SESSIONS = 16
_MANAGEMENT_SLOTS = threading.BoundedSemaphore(MANAGEMENT_SESSIONS)
POLL_SECONDS = 0.5
ARCHIVE_LISTED = 100  # missing statements an archive step lists (its message counts them all)

# Stage of each device role: lower stages are turned up first. Other roles go last.
ROLE_STAGES = {"core": 0, "spine": 0, "aggregation": 1, "distribution": 1}
LAST_STAGE = 2
NOT_TURNED_UP_PLATFORMS = {"console_server"}

# Platform slug → driver class, by name (imported when first needed).
DRIVERS = {
    "cisco_iosxe": "turnup.provisioning.drivers.iosxe.IosXeDriver",
    "juniper_junos": "turnup.provisioning.drivers.junos.JunosDriver",
}


# == starting, cancelling, retrying ==========================================================


def run_devices(*, site: Site) -> list[Device]:
    """The devices a turn-up of ``site`` configures: every device with a console path that
    is not a console server, ordered by name."""
    paths = dcim_selectors.site_console_paths(site=site)
    devices = (
        Device.objects.filter(site=site, pk__in=list(paths))
        .select_related("platform", "role")
        .order_by("name")
    )
    return [d for d in devices if not (d.platform and d.platform.slug in NOT_TURNED_UP_PLATFORMS)]


def device_stage(device: Device) -> int:
    return ROLE_STAGES.get(device.role.slug if device.role_id else "", LAST_STAGE)


def run_start(*, site: Site, overwrite: bool = False, requested_by=None) -> Run:
    """Start turning ``site`` up: the preflight checks must pass (dcim's transition guard
    raises ConflictError with the findings), the site goes to turning-up, a Run with one
    Step per router and step is created, and the graph is enqueued after the commit."""
    from turnup.provisioning.workflows import site_turnup_graph_enqueue

    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        active = Run.objects.filter(site=site, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        if active.exists():
            raise ConflictError(
                f"Site {site} is already being turned up (run {active.first().pk})",
                extra={"run_id": active.first().pk},
            )
        site_transition(site=site, to_status=SiteStatus.TURNING_UP)
        devices = run_devices(site=site)
        if not devices:
            raise ApplicationError(
                f"Site {site} has no router with a console path to turn up",
                extra={"site_id": site.pk},
            )
        run = Run(site=site, overwrite=overwrite, requested_by=requested_by)
        run.config_versions = _run_render(site=site, devices=devices)
        run.full_clean()
        run.save()
        stages = _compact_stages(devices)
        steps = [
            Step(run=run, device=device, stage=stages[device.pk], order=order, name=name)
            for device in devices
            for order, name in enumerate(STEP_ORDER)
        ]
        Step.objects.bulk_create(steps)
        changelog_record(action="create", instances=[run])
        transaction.on_commit(lambda: site_turnup_graph_enqueue(run_id=run.pk))
    return run


def _run_render(*, site: Site, devices: list[Device]) -> dict[str, dict[str, int]]:
    """Render the configs of ``devices`` in one pass (instead of one render per router step,
    all at once when the run begins) and archive them: {device id: {kind: version id}}. A
    router whose configs cannot be rendered is left out; its step renders again and fails
    with the reason, as the others go on."""
    from turnup.configs.services import site_configs_for_push

    pushable, _ = site_configs_for_push(site=site, device_ids=[d.pk for d in devices])
    return {
        str(device_id): {kind: config.version_id for kind, config in configs.items()}
        for device_id, configs in pushable.items()
    }


def _compact_stages(devices: list[Device]) -> dict[int, int]:
    """Stage index per device id, numbered 0, 1, … over the stages actually present."""
    raw = {d.pk: device_stage(d) for d in devices}
    order = {stage: index for index, stage in enumerate(sorted(set(raw.values())))}
    return {pk: order[stage] for pk, stage in raw.items()}


def run_cancel(*, run: Run) -> Run:
    """Ask ``run`` to stop at a safe point: steps not started yet are skipped; a step in
    progress finishes what it is doing (a console push is never cut in the middle).

    A step left running by a worker that stopped (no heartbeat for STALE_SECONDS) has nobody
    to finish it, and would hold the run and its site in turning-up until a worker came back
    to take it over: it fails ``abandoned``, saying when its worker was last heard from, and
    the run settles. Nothing runs it any more: a delivery that wakes up after that long finds
    its step lost at its next fence, before it pushes or commits anything more (as when a
    step is taken over, ``_Heartbeats.held``)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            raise ConflictError(f"Run {run.pk} is already {run.status}", extra={"run_id": run.pk})
        before = changelog_snapshot([run])
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested", "updated"])
        changelog_record(action="update", instances=[run], before=before)
        # one statement that reads the status as it updates: a claim that committed since
        # this transaction began has made its step running, and a running step finishes
        Step.objects.filter(run=run, status=StepStatus.PENDING).update(
            status=StepStatus.SKIPPED, reason="cancelled", message="the run was cancelled"
        )
        _abandoned_fail(run)
        still_running = Step.objects.filter(run=run, status=StepStatus.RUNNING).exists()
    if not still_running:
        run_settle(run_id=run.pk)
        run.refresh_from_db()
    return run


def _abandoned_fail(run: Run) -> None:
    """Fail the steps of ``run`` that no worker has beaten for STALE_SECONDS (see
    ``run_cancel``), in two statements whatever their number. Each keeps its owner, so the
    delivery that ran it cannot end it; a step a claim took over meanwhile (it beat it
    since it was read) is left to that claim."""
    now = timezone.now()
    stale = now - timedelta(seconds=STALE_SECONDS)
    abandoned = list(
        Step.objects.filter(run=run, status=StepStatus.RUNNING)
        .filter(Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True))
        .values_list("pk", "heartbeat", "started")
    )
    if not abandoned:
        return
    still = Q()
    for pk, heartbeat, _ in abandoned:
        still |= Q(pk=pk, heartbeat=heartbeat) if heartbeat else Q(pk=pk, heartbeat__isnull=True)

    def heard(heartbeat) -> str:
        when = (
            f"last heard from at {heartbeat:%Y-%m-%d %H:%M:%S} UTC"
            if heartbeat
            else "never heard from"
        )
        return (
            f"the worker running this step stopped ({when}) and the run was cancelled before "
            "another worker took the step over; the router may hold part of its work: retry "
            "the run's failed routers to finish it"
        )

    Step.objects.filter(still, status=StepStatus.RUNNING).update(
        status=StepStatus.FAILED,
        reason="abandoned",
        message=Case(*(When(pk=pk, then=Value(heard(beat))) for pk, beat, _ in abandoned)),
        seconds=Case(
            *(
                When(pk=pk, then=Value(round((now - started).total_seconds(), 3)))
                for pk, _, started in abandoned
                if started
            ),
            default=None,
            output_field=FloatField(),
        ),
        finished=now,
        heartbeat=None,
        updated=now,
    )


def run_retry_failed(*, run: Run) -> Run:
    """Turn the failed routers of a finished ``run`` up again: all their steps go back to
    pending (attempts are kept). The ones done before the failure too: a safety net may
    have rolled them back since (Junos ``commit confirmed`` ran out, IOS-XE ``reload in N``
    fired or ``configure terminal revert timer`` ran out), and the design may have been
    fixed. Steps are idempotent, so what is still on the router costs a comparison: a
    retried bootstrap checks over management first (a router that still answers with its
    hostname is not touched on its console), the full config pushes only what the router
    lacks. The done routers' steps stay done, and the same graph is enqueued again: theirs
    return at once. Only the site's latest run is retried: one run after it has taken the
    routers over, and two runs must never configure the same routers."""
    from turnup.provisioning.workflows import site_turnup_graph_enqueue

    with transaction.atomic():
        # the site's row first, as run_start locks it: one run of a site at a time
        site = Site.objects.select_for_update().get(pk=run.site_id)
        run = Run.objects.select_for_update().get(pk=run.pk)
        if not run.is_finished:
            raise ConflictError(f"Run {run.pk} is still {run.status}", extra={"run_id": run.pk})
        later = Run.objects.filter(site=site, pk__gt=run.pk).order_by("-pk").first()
        if later is not None:
            raise ConflictError(
                f"Run {run.pk} is not the latest turn-up of site {site}: run {later.pk} "
                f"({later.status}) came after it; retry that one, or start a new run",
                extra={"run_id": run.pk, "later_run_id": later.pk},
            )
        failed_devices = set(
            Step.objects.filter(
                run=run, status__in=[StepStatus.FAILED, StepStatus.SKIPPED]
            ).values_list("device_id", flat=True)
        )
        if not failed_devices:
            raise ConflictError(f"Run {run.pk} has no failed router", extra={"run_id": run.pk})
        if site.status != SiteStatus.TURNING_UP:
            site_transition(site=site, to_status=SiteStatus.TURNING_UP)
        before = changelog_snapshot([run])
        # rendered again: a retry pushes the design as fixed since the failure
        retried = list(Device.objects.filter(pk__in=failed_devices))
        run.config_versions = {
            **{k: v for k, v in run.config_versions.items() if int(k) not in failed_devices},
            **_run_render(site=site, devices=retried),
        }
        Step.objects.filter(run=run, device_id__in=failed_devices).update(
            status=StepStatus.PENDING,
            reason="",
            message="",
            finished=None,
            heartbeat=None,
            owner="",
        )
        run.status = RunStatus.QUEUED
        run.cancel_requested = False
        run.finished = None
        run.save(
            update_fields=["status", "cancel_requested", "finished", "config_versions", "updated"]
        )
        changelog_record(action="update", instances=[run], before=before)
        transaction.on_commit(lambda: site_turnup_graph_enqueue(run_id=run.pk))
    return run


def run_recover() -> list[int]:
    """Enqueue again the graph of every queued or running run that shows no life for
    STALE_SECONDS: no step heartbeat, no step finished, no enqueue. Its worker died and the
    broker may have lost its messages (the embedded SQLite broker forgets delivered messages
    on a crash; Redis gives them back only after its visibility timeout). Steps are
    idempotent, so a graph that was in fact alive only costs duplicate no-op tasks. Runs in
    every worker, every STALE_SECONDS (``tasks._reaper``).

    A silent run with no step running waits in the broker's queue while the workers are at
    work on other runs (a step beats or finished lately): it is left alone then, as a resend
    would only queue a copy behind it. A step left running by a dead worker is recovered
    whatever else runs. One reaper sends each recovery: it claims the run's row first."""
    from django.db.models import Count, Max

    from turnup.provisioning.workflows import site_turnup_graph_enqueue

    now = timezone.now()
    stale = now - timedelta(seconds=STALE_SECONDS)
    at_work = Step.objects.filter(Q(heartbeat__gt=stale) | Q(finished__gt=stale)).exists()
    recovered = []
    runs = Run.objects.filter(
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING], updated__lt=stale
    ).annotate(
        beat=Max("steps__heartbeat"),
        last=Max("steps__finished"),
        abandoned=Count("steps", filter=Q(steps__status=StepStatus.RUNNING)),
    )
    for run in runs:
        if (run.beat and run.beat > stale) or (run.last and run.last > stale):
            continue
        if at_work and not run.abandoned:
            continue
        if not Run.objects.filter(pk=run.pk, updated=run.updated).update(updated=now):
            continue  # another worker's reaper recovered it
        site_turnup_graph_enqueue(run_id=run.pk)
        recovered.append(run.pk)
    return recovered


def run_stage_done(*, run_id: int, stage: int) -> dict[str, Any]:
    """A stage's chord callback: note it on the run (the next stage starts after it)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        stages = run.summary.setdefault("stages_done", [])
        if stage not in stages:
            stages.append(stage)
            run.save(update_fields=["summary", "updated"])
    return {"run": run_id, "stage": stage}


def run_graph_enqueued(*, run_id: int) -> None:
    """Count one more enqueued graph on the run (start, retry, recovery)."""
    Run.objects.filter(pk=run_id).update(graphs=F("graphs") + 1, updated=timezone.now())


# == settling ================================================================================


def run_settle(*, run_id: int) -> dict[str, Any]:
    """The chord callback: the site goes live when every router is done, else failed, with
    which routers failed and why. Idempotent: a settled run is returned as it is."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.is_finished:
            return run.summary
        steps = list(
            Step.objects.filter(run=run).select_related("device").order_by("device__name", "order")
        )
        if any(s.status == StepStatus.RUNNING for s in steps):
            # a duplicate graph's callback arrived while the real one still works
            return run.summary
        if not run.cancel_requested and any(s.status == StepStatus.PENDING for s in steps):
            # the callback of an earlier graph (retry-failed put steps back since), or of a
            # graph that lost tasks: the run goes on, and recovery resends a graph gone silent
            return run.summary
        # steps a cancelled run never reached count as not run (the router is not turned up)
        devices: dict[str, dict[str, Any]] = {}
        for step in steps:
            entry = devices.setdefault(
                step.device.name,
                {
                    "device_id": step.device_id,
                    "status": "done",
                    "stage": step.stage,
                    "step": "",
                    "reason": "",
                    "message": "",
                },
            )
            if entry["status"] != "done":
                continue
            if step.status != StepStatus.DONE:
                entry.update(
                    status="failed" if step.status != StepStatus.SKIPPED else "skipped",
                    step=step.name,
                    reason=step.reason or ("not_run" if step.status == StepStatus.PENDING else ""),
                    message=step.message,
                )
        failed = sorted(name for name, e in devices.items() if e["status"] != "done")
        # the archive's findings: rendered statements a router that went live does not have
        findings = {
            step.device.name: step.result.get("missing", [])
            for step in steps
            if step.name == StepName.ARCHIVE and step.result.get("compliant") is False
        }
        now = timezone.now()
        if run.cancel_requested:
            run.status = RunStatus.CANCELLED
        elif failed:
            run.status = RunStatus.FAILED
        else:
            run.status = RunStatus.SUCCEEDED
        run.finished = now
        run.started = run.started or now
        run.summary = {
            "devices": devices,
            "failed": failed,
            "done": sorted(name for name, e in devices.items() if e["status"] == "done"),
            "seconds": round((now - run.started).total_seconds(), 3),
            "bytes_pushed": sum(s.bytes_pushed for s in steps),
            "findings": findings,
        }
        run.save(update_fields=["status", "finished", "started", "summary", "updated"])
        # the routers it brought up are active in the design (those of an earlier try too)
        device_status_set(
            devices=[
                s.device
                for s in steps
                if s.name == STEP_ORDER[0] and devices[s.device.name]["status"] == "done"
            ],
            status=DeviceStatus.ACTIVE,
        )
        site = Site.objects.get(pk=run.site_id)
        event_record(
            topic=TOPIC_RUN_FINISHED,
            key=site.name,
            type="run.finished",
            data={
                "run_id": run.pk,
                "site": site.name,
                "site_id": site.pk,
                "status": run.status,
                "done": run.summary["done"],
                "failed": {
                    name: {k: devices[name][k] for k in ("step", "reason", "message")}
                    for name in failed
                },
                "seconds": run.summary["seconds"],
                "findings": findings,
            },
        )
        if site.status == SiteStatus.TURNING_UP:
            site_transition(
                site=site,
                to_status=SiteStatus.LIVE
                if run.status == RunStatus.SUCCEEDED
                else SiteStatus.FAILED,
            )
    log.info("run %s settled: %s (failed: %s)", run.pk, run.status, ", ".join(failed) or "none")
    return run.summary


# == drivers =================================================================================


@dataclass(frozen=True)
class DeviceTargets:
    """What a driver needs for one router, read from the design."""

    platform: str
    hostname: str
    console: ConsoleTarget
    management: ManagementTarget
    credentials: Credentials
    interfaces_up: tuple[str, ...]


def device_targets(*, device: Device) -> DeviceTargets:
    """The console path, management address and credentials of ``device`` from the design.
    Raises ApplicationError naming what the design lacks."""
    from turnup.ipam.selectors import ip_address_primary_mgmt_by_device

    return _targets(
        device,
        dcim_selectors.device_console_path(device=device),
        dcim_selectors.device_credentials(device=device),
        ip_address_primary_mgmt_by_device(device_ids=[device.pk]).get(device.pk),
    )


def site_device_targets(
    *, site: Site, devices: list[Device]
) -> dict[int, DeviceTargets | ApplicationError]:
    """``device_targets`` of many routers of ``site`` at once, by device id: five queries
    whatever their number. A router whose design lacks something gets the error that names
    it (the others are not held up by it)."""
    from turnup.ipam.selectors import ip_address_primary_mgmt_by_device

    paths = dcim_selectors.site_console_paths(site=site)
    credentials = dcim_selectors.site_device_credentials(site=site)
    mgmt = ip_address_primary_mgmt_by_device(device_ids=[d.pk for d in devices])
    found: dict[int, DeviceTargets | ApplicationError] = {}
    for device in devices:
        try:
            found[device.pk] = _targets(
                device, paths.get(device.pk), credentials.get(device.pk), mgmt.get(device.pk)
            )
        except ApplicationError as error:
            found[device.pk] = error
    return found


def _targets(device: Device, path, creds, mgmt) -> DeviceTargets:
    if path is None or not path.host:
        raise ApplicationError(f"{device.name} has no console path with an address")
    if creds is None:
        raise ApplicationError(f"{device.name} has no credential profile")
    if mgmt is None:
        raise ApplicationError(f"{device.name} has no primary management address")
    method = "ssh" if path.method == "ssh" else "telnet"
    console = ConsoleTarget(
        host=path.host,
        port=path.port,
        method=method,
        username=path.ssh_username(creds.console_username) if method == "ssh" else "",
        password=creds.console_password if method == "ssh" else "",
        baud=path.baud or 9600,
        line=path.line,
        server=path.console_server,
    )
    interfaces_up = [mgmt.assigned_interface.name] if mgmt.assigned_interface_id else []
    return DeviceTargets(
        platform=device.platform.slug if device.platform_id else "",
        hostname=device.name,
        console=console,
        management=ManagementTarget(host=str(mgmt.address).split("/")[0]),
        credentials=Credentials(
            username=creds.local_username,
            password=creds.local_password,
            enable_secret=creds.enable_secret,
            root_password=creds.junos_root_password,
        ),
        interfaces_up=tuple(interfaces_up),
    )


def device_interface_expectations(
    *, device: Device, targets: DeviceTargets
) -> list[InterfaceExpectation]:
    """What verification expects of ``device``'s interfaces, from the design: the management
    interface up, and every port the day-0 config configures (as the render context does:
    cabled, not management-only) shut down or not as designed, named with its far end.
    Two queries."""
    expected = [InterfaceExpectation(name=name, line_up=True) for name in targets.interfaces_up]
    for link in dcim_selectors.device_links(device=device):
        if link.name not in targets.interfaces_up:
            expected.append(
                InterfaceExpectation(
                    name=link.name,
                    enabled=link.enabled,
                    peer_device=link.peer_device,
                    peer_port=link.peer_port,
                )
            )
    return expected


def expectations_awaiting_lldp(
    expected: list[InterfaceExpectation], *, run_id: int
) -> list[InterfaceExpectation]:
    """``expected`` with the cables whose far end is a router of the run with its full config
    in (LLDP with it) marked as worth waiting for its LLDP advertisement. One query when
    there are cables, none otherwise."""
    if not any(want.peer_device for want in expected):
        return expected
    peers = selectors.run_lldp_peers(run_id=run_id)
    return [replace(want, await_neighbour=want.peer_device in peers) for want in expected]


def drivers_preload() -> list[str]:
    """Import every driver and the vendor libraries it uses (``LIBRARIES``). A worker does
    it once when it starts: netmiko alone costs about half a second of CPU to import, and
    imported by the first steps of a run it held every thread of the worker on the import
    lock. Returns the modules imported; one that is missing is left to ``driver_for``."""
    imported = []
    for path in DRIVERS.values():
        try:
            module = importlib.import_module(path.rpartition(".")[0])
            for name in getattr(module, "LIBRARIES", ()):
                importlib.import_module(name)
                imported.append(name)
        except ImportError:
            log.warning("turn-up driver %s is not available in this build", path)
            continue
        imported.append(module.__name__)
    return imported


def driver_for(
    *,
    platform: str,
    console: ConsoleTarget,
    mgmt: ManagementTarget,
    credentials: Credentials,
    hostname: str = "",
    overwrite: bool = False,
    retrying: bool = False,
):
    """A driver for ``platform`` (``DRIVERS`` maps slugs to classes by name). Raises
    ApplicationError for a platform without a driver."""
    path = DRIVERS.get(platform)
    if path is None:
        raise ApplicationError(
            f"no turn-up driver for platform {platform or '(none)'!r}",
            extra={"reason": "no_driver"},
        )
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ApplicationError(
            f"the {platform} driver ({path}) is not available in this build",
            extra={"reason": "no_driver"},
        ) from None
    wanted = inspect.signature(cls).parameters
    options: dict[str, Any] = {"console": console, "credentials": credentials}
    options["management" if "management" in wanted else "mgmt"] = mgmt
    if "hostname" in wanted:
        options["hostname"] = hostname
    if "overwrite" in wanted:
        options["overwrite"] = overwrite
    if "retrying" in wanted:
        options["retrying"] = retrying
    if "reload_timer" in wanted:
        options["reload_timer"] = settings.TURNUP_IOS_RELOAD_TIMER
    return cls(**options)


# == time limits =============================================================================


def step_time_limit(*, name: str, bytes_total: int, baud: int) -> float:
    """Seconds a step may take, from what it moves and the allowances above."""
    if name == StepName.BOOTSTRAP:
        return (
            CONSOLE_LOGIN_SECONDS
            + CONSOLE_BYTE_FACTOR * bytes_total / line_rate(baud or 9600)
            + CONSOLE_COMMIT_SECONDS
        )
    if name == StepName.FULL_CONFIG:
        return MGMT_LOGIN_SECONDS + 2 * bytes_total / MGMT_BYTES_PER_SECOND
    if name == StepName.CONFIRM:
        return MGMT_LOGIN_SECONDS + MGMT_COMMIT_SECONDS
    # verify, archive: read the running config back (about the full config's size)
    limit = MGMT_LOGIN_SECONDS + 2 * max(bytes_total, 20_000) / MGMT_BYTES_PER_SECOND
    if name == StepName.VERIFY:  # and wait for LLDP to show the far ends of cables
        limit += settings.TURNUP_LLDP_WAIT_SECONDS
    return limit


def confirm_minutes(*, full_bytes: int) -> int:
    """How long the console commit's safety net waits for the management phase: the time
    limits of the steps up to the confirm that makes the config stick (full config, verify,
    confirm), rounded up to minutes, plus two minutes; five at least."""
    rest = sum(
        step_time_limit(name=name, bytes_total=full_bytes, baud=9600)
        for name in (StepName.FULL_CONFIG, StepName.VERIFY, StepName.CONFIRM)
    )
    return max(5, math.ceil(rest / 60) + 2)


# == one step ================================================================================


class StepTimeout(DriverError):
    reason = "timeout"


class Cancelled(Exception):
    """The run was cancelled before the step touched the router."""


@dataclass
class Outcome:
    bytes_pushed: int = 0
    bytes_total: int = 0
    message: str = ""
    log: str = ""
    phases: dict[str, float] | None = None
    result: dict[str, Any] | None = None


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _claim(step_id: int) -> tuple[str, Step | None]:
    """Decide what this delivery of the step does: ``finished`` / ``skip`` / ``wait`` /
    ``run`` (the step is now ours, marked running)."""
    now = timezone.now()
    step = _claim_pending(step_id, now)
    if step is not None:
        return "run", step
    with transaction.atomic():
        # only the step's row: a lock on the run's row too (``select_related`` locks every
        # joined table) made two hundred claims and line locks (whose foreign key checks
        # share-lock the run) deadlock each other
        step = Step.objects.select_for_update(of=("self",)).select_related("run").get(pk=step_id)
        if step.status in STEP_FINISHED:
            return "finished", step
        fresh = now - timedelta(seconds=STALE_SECONDS)
        if step.status == StepStatus.RUNNING and step.heartbeat and step.heartbeat > fresh:
            return "wait", step  # another delivery runs it: it finishes, cancelled or not
        run = step.run
        if run.cancel_requested or run.status == RunStatus.CANCELLED:
            _finish(step, StepStatus.SKIPPED, reason="cancelled", message="the run was cancelled")
            return "skip", step
        unfinished_before = set(
            Step.objects.filter(run=run, device_id=step.device_id, order__lt=step.order)
            .exclude(status=StepStatus.DONE)
            .values_list("status", flat=True)
        )
        if unfinished_before & set(STEP_FINISHED):
            _finish(step, StepStatus.SKIPPED, reason="earlier_step_failed", message="")
            return "skip", step
        if unfinished_before:
            return "wait", step  # a duplicate delivery ran ahead of its chain
        taken_over = step.status == StepStatus.RUNNING
        step.status = StepStatus.RUNNING
        step.attempts += 1
        step.started = step.started or now
        step.heartbeat = now
        step.owner = _owner()
        if taken_over:
            step.message = "taken over from a worker that stopped"
        claimed = ["status", "attempts", "started", "heartbeat", "owner", "message", "updated"]
        step.save(update_fields=claimed)
        if run.status == RunStatus.QUEUED:
            run.status = RunStatus.RUNNING
            run.started = run.started or now
            run.save(update_fields=["status", "started", "updated"])
    return "run", step


# The common claim as one statement (see ``_claim_pending``). Written out: Django took 1.8 ms
# of CPU a step to build the same UPDATE with its two subqueries (this: 0.14 ms).
_CLAIM_PENDING_SQL = """
UPDATE {step} SET status = %s, attempts = attempts + 1, started = COALESCE(started, %s),
    heartbeat = %s, owner = %s, updated = %s
WHERE id = %s AND status = %s
    AND NOT EXISTS (
        SELECT 1 FROM {step} earlier WHERE earlier.run_id = {step}.run_id
        AND earlier.device_id = {step}.device_id AND earlier."order" < {step}."order"
        AND earlier.status <> %s)
    AND EXISTS (
        SELECT 1 FROM {run} run WHERE run.id = {step}.run_id
        AND NOT run.cancel_requested AND run.status <> %s)
"""


def _claim_pending(step_id: int, now) -> Step | None:
    """The common claim in one statement: a pending step whose router's earlier steps are
    done, of a run nobody cancelled, becomes running (the row's lock orders two deliveries
    of it: the second finds it running and takes the careful path in ``_claim``). Under
    load every round trip to the database waits for a core; the careful path takes five.
    Returns the claimed step with its run, or None."""
    from django.db import connection

    at = connection.ops.adapt_datetimefield_value(now)
    sql = _CLAIM_PENDING_SQL.format(
        step=connection.ops.quote_name(Step._meta.db_table),
        run=connection.ops.quote_name(Run._meta.db_table),
    )
    params = [StepStatus.RUNNING, at, at, _owner(), at, step_id, StepStatus.PENDING]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, StepStatus.DONE, RunStatus.CANCELLED])
        if cursor.rowcount != 1:
            return None
    step = Step.objects.select_related("run").get(pk=step_id)
    run = step.run
    if run.status == RunStatus.QUEUED and Run.objects.filter(
        pk=run.pk, status=RunStatus.QUEUED
    ).update(status=RunStatus.RUNNING, started=Coalesce("started", Value(now)), updated=now):
        run.status, run.started = RunStatus.RUNNING, run.started or now
    return step


def _finish(step: Step, status: str, *, owner: str | None = None, **fields: Any) -> bool:
    """Record the end of ``step``: its status, end time and the ``fields`` given, in one
    UPDATE without reading the row back (the in-memory step gets them too). With ``owner``,
    only while the step is still that delivery's: one whose heartbeat lagged past
    STALE_SECONDS may have been taken over, and the taker's end is the step's. Returns
    whether the row was written."""
    now = timezone.now()
    fields = {"status": status, "finished": now, "heartbeat": None, "updated": now, **fields}
    if step.started:
        fields["seconds"] = round((now - step.started).total_seconds(), 3)
    for name, value in fields.items():
        setattr(step, name, value)
    rows = Step.objects.filter(pk=step.pk)
    if owner is not None:
        rows = rows.filter(owner=owner, status=StepStatus.RUNNING)
    return bool(rows.update(**fields))


DEADLOCK_ATTEMPTS = 3


def _deadlock_retried(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, again when the database chose it as a deadlock's
    victim (it rolled the transaction back: nothing was done; a cancel racing a claim can
    cross locks)."""
    for attempt in range(DEADLOCK_ATTEMPTS):
        try:
            return function(*args, **kwargs)
        except OperationalError as error:
            if not is_deadlock(error) or attempt == DEADLOCK_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


# What the steps of one task share (``device_turnup_steps``, this thread): the design
# revision their router's context was read at, and the configs they read back by version.
_TASK = threading.local()


def device_turnup_steps(*, step_ids: list[int]) -> list[dict[str, Any]]:
    """Run a router's steps that share one session, in order (the graph's task body): its
    console step, or its management steps one after the other over the session the first
    one opens. A step after a failed one skips itself (its claim says so). The steps read
    the design once: a task is a few seconds of one session, and a design changed meanwhile
    reaches the router's next task (the full config was rendered when the run started)."""
    _TASK.memo = {}
    done: list[dict[str, Any]] = []
    try:
        for step_id in step_ids:
            done.append(device_turnup_step(step_id=step_id))
            if done[-1].get("status") == "taken_over":
                break  # the taker, a delivery of this same task, runs the steps after it
        return done
    finally:
        _TASK.memo = None


def _task_memo() -> dict[Any, Any] | None:
    return getattr(_TASK, "memo", None)


def device_turnup_step(*, step_id: int) -> dict[str, Any]:
    """Run one step of one router (the task body). Returns ``{"step", "status"}``."""
    deadline = time.monotonic() + 3600
    while True:
        claimed_at = time.monotonic()  # the claim writes a heartbeat no older than this
        verdict, step = _deadlock_retried(_claim, step_id)
        if verdict != "wait":
            break
        if time.monotonic() > deadline:
            return {"step": step_id, "status": "waiting"}
        db_release()
        time.sleep(POLL_SECONDS)
    if verdict != "run":
        return {"step": step_id, "status": step.status}
    base_bytes = step.bytes_pushed
    outcome = Outcome()
    earlier: list[dict[str, str]] = []  # what the failed attempts of this delivery said
    status, reason, message = StepStatus.DONE, "", ""
    heartbeat = _Heartbeat(step, since=claimed_at)
    heartbeat.start()
    try:
        for attempt in range(MAX_ATTEMPTS):
            try:
                outcome = STEP_BODIES[step.name](step)
                status, reason, message = StepStatus.DONE, "", outcome.message
                break
            except DriverError as error:
                status, reason, message = StepStatus.FAILED, error.reason, error.message
                outcome.log = error.output or outcome.log
                if error.result:
                    outcome.result = {**(outcome.result or {}), **error.result}
                retryable = error.retryable or error.reason in RETRY_ALSO
                if not retryable or attempt == MAX_ATTEMPTS - 1:
                    break
                earlier.append({"reason": error.reason, "message": _kept(error.message, 300)})
                if Run.objects.filter(pk=step.run_id, cancel_requested=True).exists():
                    break
                step.attempts += 1  # the next try is a retry (the driver is told so)
                _progress(step, attempts=step.attempts)
                time.sleep(RETRY_PAUSE_SECONDS)
            except ChannelClosed as error:  # a driver let its transport's error through
                status, reason, message = StepStatus.FAILED, "line_dropped", f"line closed: {error}"
                if attempt == MAX_ATTEMPTS - 1:
                    break
                earlier.append({"reason": reason, "message": _kept(message, 300)})
                step.attempts += 1  # the next try is a retry (the driver is told so)
                _progress(step, attempts=step.attempts)
                time.sleep(RETRY_PAUSE_SECONDS)
            except ApplicationError as error:
                reason = error.extra.get("reason", "design")
                status, message = StepStatus.FAILED, error.message
                break
    except StepTakenOver:
        # its heartbeat lagged and another delivery took the step over: that one's run of
        # the step counts; this one stopped before pushing anything more
        log.warning("step %s was taken over while this delivery ran it", step.pk)
        return {"step": step.pk, "status": "taken_over", "reason": ""}
    except (OperationalError, InterfaceError):
        # the database went away for a moment: the step stays running, its heartbeat stops,
        # and the task's retry takes it over once it is stale (it resumes what it was doing)
        raise
    except Exception as error:  # noqa: BLE001 - any bug is recorded on the step, not lost
        log.exception("step %s crashed", step.pk)
        status, reason, message = StepStatus.FAILED, "internal_error", f"{type(error).__name__}"
        message += f": {error}"
    finally:
        heartbeat.stop()
    result = dict(outcome.result or step.result)
    if earlier:
        result["failed_attempts"] = [*step.result.get("failed_attempts", []), *earlier]
    ended = {"bytes_total": outcome.bytes_total} if outcome.bytes_total else {}
    if outcome.phases:
        ended["phases"] = outcome.phases
    turned_up = step.name == STEP_ORDER[-1] and status == StepStatus.DONE
    # the router's last step and the event that tells it commit together
    with transaction.atomic() if turned_up else contextlib.nullcontext():
        mine = _finish(
            step,
            status,
            owner=step.owner,
            reason=reason,
            message=_kept(message, 2000),
            log=scrub(outcome.log or "", []),
            bytes_pushed=base_bytes + outcome.bytes_pushed,
            result=result,
            **ended,
        )
        if not mine:
            log.warning("step %s was taken over while this delivery ran it", step.pk)
            return {"step": step.pk, "status": "taken_over", "reason": ""}
        if turned_up:
            _device_turned_up_event(step)
    return {"step": step.pk, "status": status, "reason": reason}


def _kept(message: str, length: int) -> str:
    """A message as a Step keeps it: its first ``length`` characters, with no secret in
    them (a refused or mangled config line is quoted in its error)."""
    return scrub(message, [], limit=None)[:length]


def _device_turned_up_event(step: Step) -> None:
    """Tell other systems (Kafka, through the outbox) that the router of ``step`` (its last
    step) is turned up: verified over management, saved and archived. Read from the run's
    cached design context: two statements (the design revision, the INSERT) on the tail of
    the router's critical path. (It becomes active in the design when the run settles: a
    change-log entry now would be a new design revision, and every other router's next step
    would read the run's contexts again.)"""
    try:
        device, targets = _device_and_targets(step)
        platform, address = targets.platform, targets.management.host
    except ApplicationError:  # the design changed under the run: the step is recorded anyway
        device = Device.objects.select_related("site", "platform").get(pk=step.device_id)
        platform, address = (device.platform.slug if device.platform_id else ""), ""
    event_record(
        topic=TOPIC_DEVICE_TURNED_UP,
        key=device.site.name,
        type="device.turned-up",
        data={
            "site": device.site.name,
            "device": device.name,
            "device_id": device.pk,
            "platform": platform,
            "serial": device.serial,
            "management_address": address,
            "run_id": step.run_id,
            "compliant": step.result.get("compliant"),
            "findings": len(step.result.get("missing", [])),
        },
    )


class StepTakenOver(Exception):
    """This delivery's step is another's now: its heartbeat lagged past STALE_SECONDS and
    another delivery took it over. Raised at a fence (before a push, a commit or a
    management step's work, and while a console push runs): the delivery stops and writes
    nothing more on the step; the taker's run of the step counts."""

    def __init__(self, step_id: int):
        super().__init__(f"step {step_id} was taken over by another delivery")


# A step trusts its own heartbeat for STALE_SECONDS less this margin (clock drift between
# worker hosts, the time a beat's UPDATE takes): within it, nobody can have taken it over,
# and its console-line lock (renewed with the beat, for STALE_SECONDS) is still its own.
HELD_MARGIN_SECONDS = 3.0
# A fence wants the step held for at least this long after it: what follows it (a commit,
# a few seconds of push) must not run past the time the step could be taken over.
FENCE_HEADROOM_SECONDS = 5.0


@dataclass
class _Beat:
    held_until: float  # monotonic: nobody can take the step over before this
    live: int | None = None  # bytes the console push has sent so far (set by the push)
    sent: int | None = None  # the bytes last written to the Step
    lost: bool = False  # the step is another delivery's now


class _Heartbeats:
    """The one thread of a worker process that writes the heartbeat of every step the process
    runs, renews their console-line locks and writes their pushes' live bytes: a few UPDATEs
    a beat whatever the number of steps, on one database connection. (A thread and a
    connection per step took two hundred connections for two hundred routers, past
    PostgreSQL's limit: steps failed to claim and their chains broke.)

    A step is registered by its delivery, ``(step id, owner)`` — two deliveries of one step
    in one process are two entries — and every write names the owner: a step another
    delivery took over (this one's beats lagged) is beaten no more, its line lock no longer
    renewed, and its entry is marked lost; the delivery learns it at its next fence
    (``held``). A push only sets its bytes on its entry (never waits on the database): the
    thread writes them, so a busy database cannot slow a push that keeps pace with a line."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: dict[tuple[int, str], _Beat] = {}
        self.thread: threading.Thread | None = None

    def add(self, step_id: int, owner: str, *, since: float) -> None:
        """Register a delivery whose claim wrote the step's heartbeat at monotonic ``since``
        (or later)."""
        with self.lock:
            self.steps[(step_id, owner)] = _Beat(held_until=self._held_from(since))
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, daemon=True, name="turnup-heartbeats"
                )
                self.thread.start()

    def remove(self, step_id: int, owner: str) -> None:
        with self.lock:
            self.steps.pop((step_id, owner), None)

    def report(self, step_id: int, owner: str, sent: int) -> None:
        """A push has sent ``sent`` bytes of the step in all (written at the next beat)."""
        beat = self.steps.get((step_id, owner))
        if beat is not None:
            beat.live = sent

    def held(self, step_id: int, owner: str, *, headroom: float = 0.0) -> None:
        """Return while the step is ``owner``'s and stays so for ``headroom`` seconds more;
        raise StepTakenOver when it is not. Free while the heartbeat keeps up; when it lags
        (a starved database pool, a stalled process), the beat is written here, on the
        condition that the step is still ours."""
        with self.lock:
            beat = self.steps.get((step_id, owner))
            if beat is None:
                return  # not run by a delivery (a step body called on its own)
            if beat.lost:
                raise StepTakenOver(step_id)
            if time.monotonic() + headroom < beat.held_until:
                return
        mark = time.monotonic()
        if self._renew([(step_id, owner)]):
            with self.lock:
                beat.lost = True
            raise StepTakenOver(step_id)
        with self.lock:
            beat.held_until = max(beat.held_until, self._held_from(mark))

    @staticmethod
    def _held_from(mark: float) -> float:
        return mark + STALE_SECONDS - HELD_MARGIN_SECONDS

    @staticmethod
    def _renew(deliveries: list[tuple[int, str]]) -> set[tuple[int, str]]:
        """Beat the steps of ``deliveries`` (step id, owner) and renew their line locks, each
        while that delivery still owns it; returns the deliveries whose step is another's
        now (running for another, or ended by one). A row this connection cannot see (a
        test's, uncommitted) tells nothing."""
        now = timezone.now()
        lost: set[tuple[int, str]] = set()
        if _owned(Step, deliveries).update(heartbeat=now) < len(deliveries):
            rows = Step.objects.filter(pk__in={pk for pk, _ in deliveries})
            now_held = {
                pk: (owner, status)
                for pk, owner, status in rows.values_list("pk", "owner", "status")
            }
            lost = {
                (pk, owner)
                for pk, owner in deliveries
                if pk in now_held and now_held[pk] != (owner, StepStatus.RUNNING)
            }
        ours = [delivery for delivery in deliveries if delivery not in lost]
        if ours:
            _owned(ConsoleLineLock, ours, field="step_id").update(
                expires_at=now + timedelta(seconds=STALE_SECONDS)
            )
        return lost

    def _run(self) -> None:
        from django.db import connection

        beat_at = 0.0
        try:
            while True:
                time.sleep(PROGRESS_SECONDS)
                with self.lock:
                    if not self.steps:
                        self.thread = None  # the next step's add() starts a new one
                        return
                    steps = {key: replace(beat) for key, beat in self.steps.items()}
                try:
                    self._write(steps, beat=time.monotonic() - beat_at >= HEARTBEAT_SECONDS)
                except Exception:  # noqa: BLE001 - the database may be away for a moment
                    log.exception("writing the heartbeats of steps %s failed", sorted(steps))
                    connection.close()
                    continue
                if time.monotonic() - beat_at >= HEARTBEAT_SECONDS:
                    beat_at = time.monotonic()
        finally:
            connection.close()

    def _write(self, steps: dict[tuple[int, str], _Beat], *, beat: bool) -> None:
        steps = {key: b for key, b in steps.items() if not b.lost}
        if not steps:
            return
        sent = {key: b.live for key, b in steps.items() if b.live is not None and b.live != b.sent}
        if sent:
            _owned(Step, list(sent)).update(
                bytes_pushed=Case(
                    *(When(pk=pk, then=Value(count)) for (pk, _), count in sent.items()),
                    default=F("bytes_pushed"),
                    output_field=PositiveIntegerField(),
                )
            )
        lost: set[tuple[int, str]] = set()
        mark = time.monotonic()
        if beat:
            lost = self._renew(list(steps))
        with self.lock:
            for key, count in sent.items():
                if key in self.steps:
                    self.steps[key].sent = count
            for key in steps if beat else ():
                current = self.steps.get(key)
                if current is None:
                    continue  # ended meanwhile
                if key in lost:
                    current.lost = True
                    log.warning("step %s was taken over by another delivery", key[0])
                else:
                    current.held_until = max(current.held_until, self._held_from(mark))


def _owned(model, deliveries: list[tuple[int, str]], *, field: str = "pk"):
    """Rows of ``model`` (steps still running, or their line locks) that each delivery
    (step id, owner) still owns."""
    match = Q()
    for pk, owner in deliveries:
        match |= Q(**{field: pk, "owner": owner})
    rows = model.objects.filter(match)
    return rows.filter(status=StepStatus.RUNNING) if model is Step else rows


_HEARTBEATS = _Heartbeats()


class _Heartbeat:
    """A running step's place in its process's heartbeat thread (``_Heartbeats``)."""

    def __init__(self, step: Step, *, since: float):
        self.step_id, self.owner, self.since = step.pk, step.owner, since

    def start(self) -> None:
        _HEARTBEATS.add(self.step_id, self.owner, since=self.since)

    def stop(self) -> None:
        _HEARTBEATS.remove(self.step_id, self.owner)


def _fence(step: Step, *, headroom: float = FENCE_HEADROOM_SECONDS) -> None:
    """A safe point of ``step``'s delivery (before a push or a commit, and while a console
    push runs): raise StepTakenOver unless the step is still this delivery's and stays so
    for ``headroom`` seconds (see ``_Heartbeats.held``)."""
    _HEARTBEATS.held(step.pk, step.owner, headroom=headroom)


def _push_progress(step: Step) -> Callable[[int], None]:
    """The console push's progress callback (every 0.5 s, in the step's thread): its bytes
    go to the heartbeat thread, and the push stops (StepTakenOver) as soon as the step may
    no longer be its delivery's — before its line lock can expire and a taker get the
    line."""

    def progress(sent: int) -> None:
        _HEARTBEATS.report(step.pk, step.owner, step.bytes_pushed + sent)
        _fence(step, headroom=0.0)

    return progress


class _Watchdog:
    """Enforces a step's time limit whatever the worker pool (the threads pool ignores
    Celery's time limits): when the limit passes, the driver's session is closed, which
    makes the blocked driver call fail; the step then records ``timeout``."""

    def __init__(self, seconds: float, close: Callable[[], None]):
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire, args=(close,))
        self.timer.daemon = True

    def _fire(self, close: Callable[[], None]) -> None:
        self.fired = True
        try:
            close()
        except Exception:  # noqa: BLE001
            pass

    def __enter__(self) -> _Watchdog:
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()


def _progress(step: Step, **fields: Any) -> None:
    """Write ``fields`` of a running step while it is still this delivery's (StepTakenOver
    when it is not)."""
    if not Step.objects.filter(pk=step.pk, owner=step.owner).update(**fields):
        raise StepTakenOver(step.pk)


def db_release() -> None:
    """Give this thread's database connection back to its process's pool (at most
    TURNUP_DB_POOL_SIZE connections for a hundred threads) while its step waits — on a
    router for seconds, on a lock, a slot or a busy console server — so that the steps
    doing database work meanwhile get one. The next query takes one again. (SQLite has no
    pool and no connection limit: kept. Inside a transaction — a test's — kept.)"""
    from django.db import connection

    if connection.settings_dict["OPTIONS"].get("pool") and not connection.in_atomic_block:
        connection.close()


def _limited(
    step: Step,
    limit: float,
    close: Callable[[], None],
    body: Callable[[], Outcome],
    *,
    record: dict[str, Any] | None = None,
):
    """``body()`` under the step's time limit (recorded first, with the fields of
    ``record``: one UPDATE)."""
    _progress(step, time_limit=round(limit, 1), **(record or {}))
    db_release()
    return _watched(step, limit, close, body)


def _watched(step: Step, limit: float, close: Callable[[], None], body: Callable[[], Outcome]):
    with _Watchdog(limit, close) as watchdog:
        try:
            return body()
        except DriverError as error:
            if watchdog.fired:
                raise StepTimeout(
                    f"{step.name} took longer than its {limit:.0f} s limit", output=error.output
                ) from None
            raise
        except Exception as error:
            if watchdog.fired:
                raise StepTimeout(f"{step.name} took longer than its {limit:.0f} s limit") from (
                    error
                )
            raise


def _configs_for_push(step: Step, device: Device, kinds: tuple[str, ...]):
    """The configs of ``kinds`` the run rendered for ``device`` when it started (or was
    retried); rendered now when the run has none for it (the render's problem is the
    step's failure). A stored text that is gone is rendered again and stored back, so the
    router's later steps read it instead of rendering too."""
    from turnup.configs.services import device_configs_for_push, stored_configs_for_push

    versions = step.run.config_versions.get(str(device.pk), {})
    gone = False
    if all(kind in versions for kind in kinds):
        memo = _task_memo()
        key = ("configs", *(versions[kind] for kind in kinds))
        if memo is not None and key in memo:
            return memo[key]  # the full config an earlier step of this task read
        try:
            stored = stored_configs_for_push(version_ids=[versions[kind] for kind in kinds])
        except NotFoundError:
            stored, gone = {}, True
        if all(kind in stored for kind in kinds):
            if memo is not None:
                memo[key] = stored
            return stored
    return device_configs_for_push(device=device, kinds=kinds, restore=gone)


# (device id, design revision) -> (device, targets or what the design lacks): the first step
# of a run on a worker reads the design context of every router of the run at once (seven
# queries and the decrypted credentials, ~5 ms of CPU a router when read one by one); the
# steps after it pay one query (the newest change-log entry) while the design is unchanged.
_CONTEXTS: OrderedDict[tuple[int, int | None], tuple[Device, DeviceTargets | ApplicationError]] = (
    OrderedDict()
)
_CONTEXTS_LOCK = threading.Lock()
_CONTEXTS_LOADING = threading.Lock()  # one thread reads a run's contexts; the others wait
_CONTEXTS_KEPT = 4096


def _device_and_targets(step: Step) -> tuple[Device, DeviceTargets]:
    from turnup.configs.services import latest_design_change_id

    memo = _task_memo()
    if memo is None:
        change = latest_design_change_id()
    elif "change" not in memo:
        change = memo["change"] = latest_design_change_id()
    else:
        change = memo["change"]
    key = (step.device_id, change)
    with _CONTEXTS_LOCK:
        found = _CONTEXTS.get(key)
    if found is None:
        db_release()  # a hundred steps waiting here hold no database connection
        with _CONTEXTS_LOADING:
            with _CONTEXTS_LOCK:
                found = _CONTEXTS.get(key)
            if found is None:
                found = _contexts_load(run_id=step.run_id, change=key[1])[step.device_id]
    device, targets = found
    if isinstance(targets, ApplicationError):
        raise ApplicationError(targets.message, extra=targets.extra)
    return device, targets


def _contexts_load(*, run_id: int, change: int | None) -> dict[int, tuple]:
    ids = Step.objects.filter(run_id=run_id).values_list("device_id", flat=True).distinct()
    devices = list(Device.objects.select_related("platform", "site", "role").filter(pk__in=ids))
    targets = site_device_targets(site=devices[0].site, devices=devices)
    loaded = {device.pk: (device, targets[device.pk]) for device in devices}
    with _CONTEXTS_LOCK:
        for device_id, context in loaded.items():
            _CONTEXTS[(device_id, change)] = context
        while len(_CONTEXTS) > _CONTEXTS_KEPT:
            _CONTEXTS.popitem(last=False)
    return loaded


def _context(step: Step):
    device, targets = _device_and_targets(step)
    driver = driver_for(
        platform=targets.platform,
        console=targets.console,
        mgmt=targets.management,
        credentials=targets.credentials,
        hostname=targets.hostname,
        overwrite=step.run.overwrite,
        retrying=step.attempts > 1,
    )
    return device, targets, driver


def _driver_log(driver, targets: DeviceTargets, extra: str = "") -> str:
    text = driver.output() if hasattr(driver, "output") else ""
    secrets = [*targets.credentials.secrets(), targets.console.password]
    return scrub("\n".join(filter(None, [text, extra])), secrets)


def _step_bootstrap(step: Step) -> Outcome:
    started = time.monotonic()
    device, targets, driver = _context(step)
    configs = _configs_for_push(step, device, ("bootstrap", "full"))
    config, full = configs["bootstrap"], configs["full"]
    phases: dict[str, float] = {"render": round(time.monotonic() - started, 3)}
    limit = step_time_limit(
        name=StepName.BOOTSTRAP, bytes_total=config.size, baud=targets.console.baud
    )
    live = device.status == DeviceStatus.ACTIVE
    if step.attempts > 1 or live:
        # taken over or retried: the earlier attempt may have finished the console part; a
        # router an earlier run turned up (a redesigned live site) answers over management
        # and takes its changes there, as any later step: its console is not needed
        started = time.monotonic()
        done = _bootstrap_over_management(driver, targets.hostname)
        phases["reach_mgmt"] = round(time.monotonic() - started, 3)
        if done:
            return Outcome(
                bytes_total=config.size,
                message="the router is in service: it answers over management as designed; "
                "its console is not needed"
                if live and step.attempts == 1
                else "bootstrap already on the router (checked over management)",
                log=_driver_log(driver, targets),
                phases=phases,
                result={"changed": False, "via": "management"},
            )
    started = time.monotonic()
    lock = _line_claim(step, targets.console, limit)
    phases["claim_line"] = round(time.monotonic() - started, 3)

    def body() -> Outcome:
        _fence(step)  # the line is this delivery's: it wakes the router and logs in
        mark = time.monotonic()
        state = driver.console_open()
        phases["wake_login"] = round(time.monotonic() - mark, 3)
        _fence(step)
        mark = time.monotonic()
        pushed = driver.console_push(
            config.text,
            resume=bool(state.hostname and state.hostname == targets.hostname),
            progress=_push_progress(step),
        )
        phases["bootstrap"] = round(time.monotonic() - mark, 3)
        _progress(step, bytes_pushed=step.bytes_pushed + pushed.bytes)
        db_release()  # a Junos commit confirmed keeps the console seconds longer
        _fence(step)
        mark = time.monotonic()
        said = driver.console_commit(confirm_minutes=confirm_minutes(full_bytes=full.size))
        phases["commit_confirmed"] = round(time.monotonic() - mark, 3)
        return Outcome(
            bytes_pushed=pushed.bytes,
            bytes_total=config.size,
            message=said,
            log=_driver_log(driver, targets),
            phases=phases,
            result={
                "changed": pushed.changed,
                "repairs": pushed.repairs,
                "push_seconds": round(pushed.seconds, 3),
                "line_rate_fraction": round(
                    pushed.bytes / pushed.seconds / targets.console.bytes_per_second, 3
                )
                if pushed.seconds and pushed.bytes
                else None,
                "factory": state.factory,
                "notes": list(state.notes),
                "config_version_id": config.version_id,
            },
        )

    try:
        return _limited(
            step, limit, driver.console_close, body, record={"bytes_total": config.size}
        )
    finally:
        mark = time.monotonic()
        driver.console_close()
        lease_release(ConsoleLineLock, pk=lock.pk)
        phases["release_line"] = round(time.monotonic() - mark, 3)


def _bootstrap_over_management(driver, hostname: str) -> bool:
    """True when the router already answers over management with the bootstrap's user and
    carries its hostname: the bootstrap's job is done (an earlier attempt finished it), and
    nothing is pushed again (re-applying the bootstrap could undo what later steps set). The
    session opens in a management slot, as every management step's (its key exchange is the
    CPU work), holding no database connection."""
    db_release()
    with _MANAGEMENT_SLOTS:
        try:
            driver.mgmt_open()
        except DriverError:
            return False
    try:
        running = driver.mgmt_running_config()
    except DriverError:
        return False
    finally:
        driver.mgmt_close()
    return any(
        line.strip().rstrip(";") in (f"hostname {hostname}", f"host-name {hostname}")
        or line.strip() == f"set system host-name {hostname}"
        for line in running.splitlines()
    )


def _line_claim(step: Step, console: ConsoleTarget, limit: float) -> ConsoleLineLock:
    """Take the console line (one session per line) for this delivery of ``step``, waiting
    while the console server has CONSOLE_SERVER_SESSIONS sessions open, or while an earlier
    delivery of the same step holds the line (it lost the step to this one: its lock
    expires unrenewed). A line held by another step is busy."""
    from turnup.provisioning.drivers.base import LineBusy

    server = console.server or console.host
    give_up = time.monotonic() + limit
    while True:
        now = timezone.now()
        live = ConsoleLineLock.objects.filter(server=server, expires_at__gt=now)
        waiting_for = f"console server {server} stayed at its session limit"
        if live.exclude(step=step).count() < CONSOLE_SERVER_SESSIONS:
            lock = _deadlock_retried(
                lease_acquire,
                ConsoleLineLock,
                key=console.key,
                now=now,
                expires_at=now + timedelta(seconds=STALE_SECONDS),
                holder={"step": step, "owner": step.owner},
                defaults={"server": server, "run": step.run, "taken": now},
            )
            if lock is not None:
                return lock
            holder = ConsoleLineLock.objects.filter(key=console.key).first()
            if holder is None or holder.step_id != step.pk:
                raise LineBusy(
                    f"console line {console.key} is held by "
                    f"{'run ' + str(holder.run_id) if holder else 'another session'}"
                )
            _fence(step, headroom=0.0)  # or is the holder the one that took it from this one?
            waiting_for = (
                f"console line {console.key} is still held by an earlier delivery of this "
                f"step ({holder.owner})"
            )
        if time.monotonic() > give_up:
            raise LineBusy(waiting_for)
        db_release()
        time.sleep(POLL_SECONDS)


def _step_full_config(step: Step) -> Outcome:
    device, targets, driver = _context(step)
    config = _configs_for_push(step, device, ("full",))["full"]
    limit = step_time_limit(name=StepName.FULL_CONFIG, bytes_total=config.size, baud=0)

    def body() -> Outcome:
        pushed = driver.mgmt_push(config.text)
        return Outcome(
            bytes_pushed=pushed.bytes,
            bytes_total=config.size,
            message="pushed" if pushed.changed else "already configured",
            log=_driver_log(driver, targets, pushed.output),
            phases={"full_config": round(pushed.seconds, 3)},
            result={
                "changed": pushed.changed,
                "lines": len(pushed.diff.splitlines()),
                "config_version_id": config.version_id,
                "confirm_pending": pushed.confirm_pending,
            },
        )

    return _over_management(step, limit, driver, body, record={"bytes_total": config.size})


def _step_verify(step: Step) -> Outcome:
    from turnup.provisioning.drivers.base import DriverError as _DriverError

    class VerifyFailed(_DriverError):
        reason = "verify_failed"

    device, targets, driver = _context(step)
    wait = settings.TURNUP_LLDP_WAIT_SECONDS
    limit = step_time_limit(name=StepName.VERIFY, bytes_total=0, baud=0)
    interfaces = device_interface_expectations(device=device, targets=targets)
    if wait:
        interfaces = expectations_awaiting_lldp(interfaces, run_id=step.run_id)

    def body() -> Outcome:
        verdict = driver.mgmt_verify(
            hostname=targets.hostname, interfaces=interfaces, lldp_wait=wait
        )
        if not verdict.ok:
            raise VerifyFailed(
                "; ".join(verdict.problems),
                output=_driver_log(driver, targets),
                result={"checks": verdict.checks},
            )
        shown = verdict.checks.get("interfaces", {})
        down = [name for name, state in shown.items() if state.startswith("up/down")]
        message = f"verified: hostname {verdict.checks.get('hostname', '')}, "
        message += f"{len(shown)} interfaces as designed"
        neighbours = verdict.checks.get("neighbours")
        if isinstance(neighbours, dict) and neighbours:
            seen = sum(1 for found in neighbours.values() if found != "none")
            message += f", {seen} of {len(neighbours)} links seen over LLDP as cabled"
            if verdict.checks.get("lldp_waited_seconds"):
                message += f" (waited {verdict.checks['lldp_waited_seconds']:g} s for LLDP)"
        if down:  # the far end may not be turned up yet: recorded, not a failure
            message += f"; line down on {', '.join(down)}"
        return Outcome(
            message=message,
            log=_driver_log(driver, targets),
            result={"checks": verdict.checks},
        )

    return _over_management(step, limit, driver, body)


def _step_confirm(step: Step) -> Outcome:
    """Confirm and save. When a rollback timer may run over the full config (the full
    config step says so), the config goes to the driver: a timer that ran out before this
    step (a stalled worker, a long wait for LLDP) has taken it back, and the router must not
    be saved as turned up."""
    device, targets, driver = _context(step)
    limit = step_time_limit(name=StepName.CONFIRM, bytes_total=0, baud=0)
    pushed = None
    if selectors.full_config_pending(run_id=step.run_id, device_id=device.pk):
        pushed = _configs_for_push(step, device, ("full",))["full"].text

    def body() -> Outcome:
        mark = time.monotonic()
        said = driver.mgmt_confirm(pushed=pushed)
        return Outcome(
            message=said,
            log=_driver_log(driver, targets),
            phases={"confirm": round(time.monotonic() - mark, 3)},
        )

    return _over_management(step, limit, driver, body)


def _step_archive(step: Step) -> Outcome:
    from turnup.configs.services import running_config_archive

    device, targets, driver = _context(step)
    rendered = _configs_for_push(step, device, ("full",))["full"]
    limit = step_time_limit(name=StepName.ARCHIVE, bytes_total=rendered.size, baud=0)

    def body() -> Outcome:
        text = driver.mgmt_running_config()
        archive = running_config_archive(device=device, text=text, rendered=rendered)
        held = driver.mgmt_compliance(rendered.text, text)
        secrets = targets.credentials.secrets()
        missing = [scrub(line, secrets, limit=300) for line in held.missing]
        if held.compliant:
            message = f"archived; all {held.checked} rendered statements are in the running config"
        else:
            message = (
                f"archived; {len(missing)} of {held.checked} rendered statements are not in the "
                f"running config: {'; '.join(missing[:3])}" + ("; …" if len(missing) > 3 else "")
            )
        return Outcome(
            message=message,
            result={
                "version_id": archive.version.pk,
                "rendered_version_id": rendered.version_id,
                "compliant": held.compliant,
                "checked": held.checked,
                "missing": missing[:ARCHIVE_LISTED],
                "unverifiable": [scrub(line, secrets, limit=300) for line in held.unverifiable],
                "diff": scrub(archive.diff, secrets, limit=8000),
            },
        )

    return _over_management(step, limit, driver, body)


def _over_management(
    step: Step,
    limit: float,
    driver,
    body: Callable[[], Outcome],
    *,
    record: dict[str, Any] | None = None,
) -> Outcome:
    """Run a management-network step under its time limit: its session is opened (or the
    one parked by the router's step before taken) in one of the worker's management slots
    (waiting for one does not count against the limit), then ``body`` runs on it. The slot
    is held for the opening only — the key exchange is the CPU work; a `write memory` is
    seconds of waiting on the router. A step that succeeds parks its session for the
    router's next step (``PARKED_SESSIONS``); the last step, a failure or a timeout closes
    it."""
    succeeded = False
    db_release()  # a step waiting for a slot holds no database connection
    _MANAGEMENT_SLOTS.acquire()
    held = True

    def opened_then_body() -> Outcome:
        nonlocal held
        mark = time.monotonic()
        try:
            driver.mgmt_open()
        finally:
            _MANAGEMENT_SLOTS.release()
            held = False
        reached = round(time.monotonic() - mark, 3)
        _fence(step)
        outcome = body()
        outcome.phases = {"reach_mgmt": reached, **(outcome.phases or {})}
        return outcome

    try:
        outcome = _limited(step, limit, driver.mgmt_close, opened_then_body, record=record)
        succeeded = True
        return outcome
    finally:
        if held:
            _MANAGEMENT_SLOTS.release()
        driver.mgmt_close(keep=succeeded and step.name != STEP_ORDER[-1])


def idle_sessions_close() -> int:
    """Close the management sessions parked longer than the pool's idle time (a router's
    next step ran in another worker process, or its run stopped); returns how many."""
    return PARKED_SESSIONS.sweep()


STEP_BODIES: dict[str, Callable[[Step], Outcome]] = {
    StepName.BOOTSTRAP: _step_bootstrap,
    StepName.FULL_CONFIG: _step_full_config,
    StepName.VERIFY: _step_verify,
    StepName.CONFIRM: _step_confirm,
    StepName.ARCHIVE: _step_archive,
}
