"""Owned by helper 'graph' (Run/Step graph); the engine helper owns drivers/.

The only place that builds Celery canvases: a site's turn-up graph.

    chain(
        chord(group(chain(console, management) per core router),  stage_done),   # stage 0
        chord(group(chain(console, management) per edge router),  run_settle),   # last stage
    )

Stages run in order (core before edge, see ``services.ROLE_STAGES``); inside a stage every
router's chain runs in parallel; each chain is the router's steps in ``models.STEP_ORDER``,
one task a session: the console step (``bootstrap``), then one task that runs the
management steps in order over one SSH/NETCONF session (each still its own Step row).
Every task takes ids only; a failed router records its failure and returns, so the chord
always completes and its callback settles the run (site live, or failed with the reasons).
"""

from __future__ import annotations

import logging

from celery import chain, chord, group

from turnup.provisioning.models import CONSOLE_STEPS, Run, Step

log = logging.getLogger(__name__)


def site_turnup_graph(run: Run):
    """The canvas for ``run``: one chord per stage, chained, the last one settling the run."""
    from turnup.provisioning.tasks import run_settle, run_stage_done, turnup_steps

    # stage -> router -> its sessions in order, each (console?, step ids): a console step is
    # a task of its own; the management steps after it are one task over one session
    by_stage: dict[int, dict[int, list[tuple[bool, list[int]]]]] = {}
    rows = Step.objects.filter(run=run).order_by("stage", "device__name", "order")
    for step_id, stage, device_id, name in rows.values_list("pk", "stage", "device_id", "name"):
        sessions = by_stage.setdefault(stage, {}).setdefault(device_id, [])
        console = name in CONSOLE_STEPS
        if console or not sessions or sessions[-1][0]:
            sessions.append((console, []))
        sessions[-1][1].append(step_id)
    stages = sorted(by_stage)
    parts = []
    for index, stage in enumerate(stages):
        chains = [
            chain(*(turnup_steps.si(step_ids=step_ids) for _, step_ids in sessions))
            for sessions in by_stage[stage].values()
        ]
        last = index == len(stages) - 1
        callback = (
            run_settle.si(run_id=run.pk) if last else run_stage_done.si(run_id=run.pk, stage=stage)
        )
        parts.append(chord(group(chains), callback))
    return chain(*parts) if len(parts) > 1 else parts[0]


def site_turnup_graph_enqueue(*, run_id: int) -> None:
    """Build and send the graph of a run (called after the transaction that made it
    commits). A broker that is down leaves the run queued: a worker's recovery sends it."""
    from turnup.provisioning.services import run_graph_enqueued

    run = Run.objects.get(pk=run_id)
    try:
        site_turnup_graph(run).apply_async()
    except Exception:  # noqa: BLE001 - the broker is down; recovery resends later
        log.exception("could not enqueue the graph of run %s; a worker will recover it", run_id)
        return
    run_graph_enqueued(run_id=run_id)
