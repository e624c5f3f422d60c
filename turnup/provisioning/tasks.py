"""Thin Celery tasks of the turn-up graph (built in ``workflows.py``): ids in, services do
the work. A worker also recovers runs whose worker died (see ``services.run_recover``)."""

from __future__ import annotations

import logging
import threading

from celery import shared_task
from celery.signals import worker_init, worker_ready, worker_shutdown
from django.db import InterfaceError, OperationalError

from turnup.provisioning import services

log = logging.getLogger(__name__)


# A database that refuses a step for a moment (restarting, out of connections) must not break
# the router's chain: the task is sent again (a retry keeps the chain); its steps are
# idempotent, the ones already done return at once.
@shared_task(
    name="provisioning.steps",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=15,
    max_retries=20,
)
def turnup_steps(*, step_ids: list[int]) -> list[dict]:
    return services.device_turnup_steps(step_ids=step_ids)


@shared_task(name="provisioning.stage_done", acks_late=True)
def run_stage_done(*, run_id: int, stage: int) -> dict:
    return services.run_stage_done(run_id=run_id, stage=stage)


@shared_task(name="provisioning.settle", acks_late=True)
def run_settle(*, run_id: int) -> dict:
    return services.run_settle(run_id=run_id)


# -- recovery: a thread in every worker resends the graphs of runs that show no life --------
_reaper_stop = threading.Event()


def _reaper() -> None:
    from django.db import connection

    while True:
        try:
            recovered = services.run_recover()
            services.idle_sessions_close()
            if recovered:
                log.warning("recovered turn-up runs %s (their worker stopped)", recovered)
        except Exception:  # noqa: BLE001 - the database may be away for a moment
            log.exception("run recovery failed")
        finally:
            connection.close()
        if _reaper_stop.wait(services.STALE_SECONDS):
            return


@worker_init.connect
def _preload_drivers(**kwargs) -> None:
    services.drivers_preload()


@worker_ready.connect
def _start_reaper(**kwargs) -> None:
    _reaper_stop.clear()
    threading.Thread(target=_reaper, name="turnup-run-reaper", daemon=True).start()


@worker_shutdown.connect
def _stop_reaper(**kwargs) -> None:
    _reaper_stop.set()
