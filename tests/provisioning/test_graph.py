"""The turn-up graph through a real Celery worker (in this process, threads pool) against a
lab wired as the site's design says: routers configured, steps recorded, run settled."""

from __future__ import annotations

import time

import pytest

from tests.provisioning.conftest import approved_site, router_state


def wait_finished(run, timeout: float = 180):
    from turnup.provisioning.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run.pk)
        if run.is_finished:
            return run
        time.sleep(0.3)
    steps = list(run.steps.values_list("device__name", "name", "status", "reason", "message"))
    raise AssertionError(f"run {run.pk} still {run.status} after {timeout} s: {steps}")


@pytest.mark.slow
def test_site_turned_up_through_the_graph(worker, lab_of):
    from turnup.dcim.models import Site
    from turnup.provisioning.models import RunStatus, StepStatus
    from turnup.provisioning.services import run_start

    site = approved_site("GRT-01", edges=2)
    lab = lab_of(site)
    run = wait_finished(run_start(site=site))
    steps = list(run.steps.select_related("device"))
    problems = [(s.device.name, s.name, s.reason, s.message) for s in steps if s.status != "done"]
    assert run.status == RunStatus.SUCCEEDED, problems
    assert Site.objects.get(pk=site.pk).status == "live"
    assert {s.status for s in steps} == {StepStatus.DONE}
    assert len(steps) == 3 * 5
    # core first: its bootstrap finished before any edge router's bootstrap started
    core = next(s for s in steps if s.device.name.endswith("cr1") and s.name == "bootstrap")
    edges = [s for s in steps if "-er" in s.device.name and s.name == "bootstrap"]
    assert all(core.finished <= e.started for e in edges)
    for step in steps:
        assert step.seconds is not None and step.seconds >= 0
    for s in [core, *edges]:
        assert s.bytes_pushed > 0 and s.bytes_total > 0
        assert set(s.phases) >= {"claim_line", "wake_login", "bootstrap", "commit_confirmed"}
        assert "local-secret-1" not in s.log and "enable-secret-1" not in s.log
    for name in lab.lab.routers:
        state = router_state(lab, name)
        assert state["hostname"] == name
        assert f"hostname {name}" in state["saved"], "saved only after verification"
        bootstrap = next(s for s in steps if s.device.name == name and s.name == "bootstrap")
        assert state["bytes_in"] < 2 * bootstrap.bytes_total, "the bootstrap crossed the line once"
    archive = next(s for s in steps if s.name == "archive")
    assert archive.result["version_id"]
    assert run.summary["failed"] == []
