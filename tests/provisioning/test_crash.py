"""Crash safety: SIGKILL the worker in the middle of a turn-up, start a new one, and the run
completes with every router configured once and no step left running.

The broker is the embedded SQLite one — the hard case: it forgets messages that were
delivered to the killed worker, so the new worker's recovery (``services.run_recover``)
must notice the silent run and send its graph again; the steps' heartbeats tell a dead
step from a live one and the idempotent steps take over where the dead worker stopped.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.helpers import shared_database_url, start_worker, stop, turnup_env
from tests.provisioning.conftest import _drop_pool, approved_site, router_state, site_lab


@pytest.fixture
def shared_broker(tmp_path, transactional_db, storage):
    """The test process and the worker processes share the test database and an embedded
    SQLite broker and result backend in ``tmp_path``."""
    from django.conf import settings
    from django.db import connection

    from tests.conftest import require_service
    from turnup.celery import app

    if connection.vendor != "postgresql":
        require_service("POSTGRESQL")  # worker processes cannot see an in-memory database
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    results = f"db+sqlite:///{tmp_path / 'results.sqlite3'}"
    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=broker, result_backend=results, task_always_eager=False)
    _drop_pool(app)
    env = turnup_env(
        tmp_path,
        DATABASE_URL=shared_database_url(),
        CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND=results,
        # the same keys as this process: the credentials are stored encrypted
        SECRET_KEY=settings.SECRET_KEY,
        TURNUP_SECRETS_KEY=os.environ.get("TURNUP_SECRETS_KEY", ""),
    )
    try:
        yield env
    finally:
        app.conf.update(saved)
        _drop_pool(app)


@pytest.mark.slow
@pytest.mark.parametrize(
    "killed_after",
    # bytes of a bootstrap on the line when the worker dies: as its push starts, or half-way
    # (the lines typed during `crypto key generate` wait in the router's buffer; the taker
    # reads the running config the router has made of them and sends only what it lacks)
    [0, 300],
    ids=["as_the_push_starts", "half_way_through_the_push"],
)
def test_worker_killed_mid_run_then_a_new_worker_completes_it(shared_broker, killed_after):
    from turnup.dcim.models import Site
    from turnup.provisioning.models import Run, Step
    from turnup.provisioning.services import run_start

    site = approved_site("CRS-01", edges=2, baud=9600)
    lab = site_lab(site)
    workers = []
    try:
        workers.append(start_worker(shared_broker, concurrency=4))
        run = run_start(site=site)
        deadline = time.monotonic() + 120
        # kill while a router's bootstrap is crossing its console line: the router is left
        # in configuration mode, its config prompt and console logging off, maybe a line
        # half typed (a push's bytes reach its Step every 0.5 s while they go)
        pushing = Step.objects.filter(
            run=run, name="bootstrap", status="running", bytes_pushed__gt=killed_after
        )
        while not pushing.exists():
            assert time.monotonic() < deadline, "no bootstrap started pushing"
            assert workers[0].poll() is None, workers[0].stderr.read()
            time.sleep(0.05)
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(10)
        killed_during = list(
            Step.objects.filter(run=run, status="running").values_list("device__name", "name")
        )
        assert killed_during, list(
            Step.objects.filter(run=run).values_list("device__name", "name", "status", "message")
        )

        workers.append(start_worker(shared_broker, concurrency=4))
        deadline = time.monotonic() + 240
        while not Run.objects.get(pk=run.pk).is_finished:
            assert time.monotonic() < deadline, list(
                Step.objects.filter(run=run).values_list("device__name", "name", "status")
            )
            assert workers[1].poll() is None, workers[1].stderr.read()
            time.sleep(0.3)
        run = Run.objects.get(pk=run.pk)
        steps = list(Step.objects.filter(run=run).select_related("device"))
        assert run.status == "succeeded", [
            (s.device.name, s.name, s.reason, s.message, s.log[-2500:])
            for s in steps
            if s.status == "failed"
        ]
        assert Site.objects.get(pk=site.pk).status == "live"
        assert not [s for s in steps if s.status == "running"]
        assert run.graphs >= 2, "the new worker sent the graph again"
        taken_over = [s for s in steps if (s.device.name, s.name) in killed_during]
        assert all(s.attempts >= 2 for s in taken_over)
        for name in lab.lab.routers:
            state = router_state(lab, name)
            bootstrap = next(s for s in steps if s.device.name == name and s.name == "bootstrap")
            assert state["hostname"] == name
            assert f"hostname {name}" in state["saved"]
            # configured once: the bootstrap did not cross the line twice
            assert state["bytes_in"] < 2 * bootstrap.bytes_total, (name, state["bytes_in"])
    finally:
        for worker in workers:
            stop(worker)
        lab.close()
