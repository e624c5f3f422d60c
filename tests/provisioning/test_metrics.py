"""``/metrics`` tells how turn-ups went: read from the database at each scrape, so every web
process tells the same numbers whichever worker did the work (no worker runs here)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.provisioning.conftest import approved_site


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _lock(run, step, server: str, *, expires_in: timedelta):
    from turnup.provisioning.models import ConsoleLineLock

    now = timezone.now()
    ConsoleLineLock.objects.create(
        key=f"{server}:{step.pk}",
        server=server,
        run=run,
        step=step,
        taken=now,
        expires_at=now + expires_in,
    )


@pytest.mark.django_db
def test_runs_steps_failures_durations_and_held_lines_are_told(client, storage, enqueued):
    from turnup.provisioning.models import Step
    from turnup.provisioning.services import run_start

    site = approved_site("MET-01", edges=2)
    run = run_start(site=site)
    lower = site.name.lower()

    def step(router: str, name: str):
        return Step.objects.get(run=run, device__name=f"{lower}-{router}", name=name)

    Step.objects.filter(pk=step("cr1", "bootstrap").pk).update(status="done", seconds=42.0)
    Step.objects.filter(pk=step("cr1", "full_config").pk).update(status="done", seconds=0.8)
    Step.objects.filter(pk=step("er1", "bootstrap").pk).update(
        status="failed", reason="line_busy", seconds=0.2
    )
    running = step("er2", "bootstrap")
    Step.objects.filter(pk=running.pk).update(status="running")
    _lock(run, running, "cs-a", expires_in=timedelta(minutes=5))
    _lock(run, step("er1", "bootstrap"), "cs-b", expires_in=timedelta(minutes=-1))  # expired

    seen = scrape(client)

    def value(name: str, **labels: str) -> float | None:
        return seen.get((name, tuple(sorted(labels.items()))))

    assert value("turnup_runs", status="queued") == 1
    assert value("turnup_runs", status="succeeded") == 0  # every status is told, 0 too
    assert value("turnup_steps", step="bootstrap", status="done") == 1
    assert value("turnup_steps", step="bootstrap", status="failed") == 1
    assert value("turnup_steps", step="bootstrap", status="running") == 1
    assert value("turnup_steps", step="full_config", status="pending") == 2
    assert value("turnup_steps", step="archive", status="pending") == 3
    assert value("turnup_steps", step="verify", status="done") == 0
    assert value("turnup_step_failures", step="bootstrap", reason="line_busy") == 1
    # durations of the steps done only: the failed bootstrap's 0.2 s is not among them
    assert value("turnup_step_seconds_bucket", step="bootstrap", le="30.0") == 0
    assert value("turnup_step_seconds_bucket", step="bootstrap", le="60.0") == 1
    assert value("turnup_step_seconds_bucket", step="bootstrap", le="+Inf") == 1
    assert value("turnup_step_seconds_count", step="bootstrap") == 1
    assert value("turnup_step_seconds_sum", step="bootstrap") == 42.0
    assert value("turnup_step_seconds_bucket", step="full_config", le="1.0") == 1
    assert value("turnup_console_lines_held", server="cs-a") == 1
    assert value("turnup_console_lines_held", server="cs-b") is None  # its lease expired


@pytest.mark.django_db
def test_the_totals_cost_four_queries_whatever_the_number_of_runs(
    storage, enqueued, django_assert_num_queries
):
    from turnup.provisioning.selectors import turnup_totals
    from turnup.provisioning.services import run_start

    run_start(site=approved_site("MET-02", edges=1))
    with django_assert_num_queries(4):
        small = turnup_totals()
    run_start(site=approved_site("MET-03", edges=4))
    with django_assert_num_queries(4):
        large = turnup_totals()
    assert small.runs["queued"] == 1 and large.runs["queued"] == 2
    assert large.steps[("bootstrap", "pending")] == 2 + 5


@pytest.mark.django_db
def test_a_database_that_is_away_leaves_the_turnup_families_out(client, monkeypatch):
    from turnup.core.metrics import TURNUPS

    def away():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(TURNUPS, "source", away)
    seen = scrape(client)
    assert not any(name.startswith("turnup_runs") for name, _ in seen)
    assert any(name.startswith("turnup_http_request_seconds") for name, _ in seen)
