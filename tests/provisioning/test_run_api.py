"""REST API and CLI of turn-up runs (no worker: the graph's enqueue is captured)."""

from __future__ import annotations

import pytest

from tests.provisioning.conftest import approved_site


@pytest.mark.django_db
def test_start_list_get_cancel(api_client, storage, enqueued, django_capture_on_commit_callbacks):
    site = approved_site("API-01", edges=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/sites/{site.pk}/turnup/", {}, format="json")
    assert response.status_code == 202, response.json()
    run_id = response.json()["run_id"]
    assert enqueued == [run_id], "the graph is sent after the commit"
    site.refresh_from_db()
    assert site.status == "turning-up"

    again = api_client.post(f"/api/sites/{site.pk}/turnup/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["extra"]["run_id"] == run_id

    runs = api_client.get(f"/api/runs/?site_id={site.pk}").json()
    assert [r["id"] for r in runs["results"]] == [run_id]
    assert api_client.get(f"/api/runs/?site_id={site.pk + 999}").json()["results"] == []
    bad = api_client.get("/api/runs/?site_id=LON-01")
    assert bad.status_code == 400
    assert bad.json()["extra"]["fields"]["site_id"] == ["A valid integer is required."], bad.json()

    detail = api_client.get(f"/api/runs/{run_id}/").json()
    assert detail["status"] == "queued"
    assert len(detail["steps"]) == 2 * 5
    names = [s["name"] for s in detail["steps"][:5]]
    assert names == ["bootstrap", "full_config", "verify", "confirm", "archive"]
    assert [p["stage"] for p in detail["progress"]] == [0, 1], "core before edge"
    assert {p["status"] for p in detail["progress"]} == {"pending"}

    cancelled = api_client.post(f"/api/runs/{run_id}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    site.refresh_from_db()
    assert site.status == "failed"
    assert api_client.post(f"/api/runs/{run_id}/cancel/").status_code == 409

    with django_capture_on_commit_callbacks(execute=True):
        retried = api_client.post(f"/api/runs/{run_id}/retry-failed/")
    assert retried.status_code == 202
    assert retried.json()["status"] == "queued"
    assert enqueued == [run_id, run_id]
    site.refresh_from_db()
    assert site.status == "turning-up"


@pytest.mark.django_db
def test_start_refused_with_findings_when_checks_fail(api_client, storage, enqueued):
    from turnup.ipam.models import IPAddress

    site = approved_site("API-02", edges=1)
    # break the design after approval: a router loses its management address
    IPAddress.objects.filter(device__site=site, is_primary_mgmt=True).first().delete()
    response = api_client.post(f"/api/sites/{site.pk}/turnup/", {}, format="json")
    assert response.status_code == 409, response.json()
    body = response.json()
    assert "preflight" in body["message"]
    assert len(body["extra"]["problems"]) >= 2
    site.refresh_from_db()
    assert site.status == "approved"
    assert enqueued == []


@pytest.mark.django_db
def test_a_site_not_approved_cannot_start(api_client, storage):
    from tests.factories import SiteFactory

    site = SiteFactory(status="planned")
    response = api_client.post(f"/api/sites/{site.pk}/turnup/", {}, format="json")
    assert response.status_code in (400, 409)
    assert "turning-up" in response.json()["message"]


@pytest.mark.django_db
def test_run_detail_query_count_does_not_grow_with_routers(
    api_client, storage, enqueued, django_assert_max_num_queries
):
    from turnup.provisioning.services import run_start

    small = run_start(site=approved_site("API-03", edges=1))
    big = run_start(site=approved_site("API-04", edges=4))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for run in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get(f"/api/runs/{run.pk}/").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_cli_up_starts_and_exits_non_zero_on_a_failed_run(storage, enqueued, capsys):
    from django.core.management import call_command

    from turnup.provisioning.models import Run
    from turnup.provisioning.services import run_cancel

    site = approved_site("CLI-01", edges=1)
    call_command("up", site.name, "--no-wait")
    run = Run.objects.get(site=site)
    assert capsys.readouterr().out.strip().endswith(str(run.pk))
    run_cancel(run=run)
    with pytest.raises(SystemExit) as exit_info:
        call_command("up", "--run", str(run.pk))
    assert exit_info.value.code == 1
    assert "cancelled" in capsys.readouterr().err
    # --if-new: the site was turned up before, nothing to do
    call_command("up", site.name, "--if-new")
    assert Run.objects.filter(site=site).count() == 1


@pytest.mark.django_db
def test_cli_up_names_what_a_live_routers_running_config_lacks(storage, enqueued, capsys):
    from django.core.management import call_command
    from django.utils import timezone

    from turnup.provisioning.models import Run

    site = approved_site("CLI-03", edges=1)
    call_command("up", site.name, "--no-wait")
    capsys.readouterr()
    missing = [f"router ospf 1 > router-id 10.0.0.{n}" for n in range(12)]
    Run.objects.filter(site=site).update(
        status="succeeded",
        finished=timezone.now(),
        summary={"failed": [], "seconds": 5.2, "findings": {"cli-03-er1": missing}},
    )
    call_command("up", "--run", str(Run.objects.get(site=site).pk))  # live: exit status 0
    out = capsys.readouterr()
    assert "CLI-03 is live" in out.out
    err = out.err.splitlines()
    assert err[0] == "cli-03-er1: 12 rendered statement(s) not in its running config"
    assert err[1:] == [f"  {line}" for line in missing[:10]]


@pytest.mark.django_db
def test_cli_up_refuses_a_site_whose_checks_fail(storage, enqueued, capsys):
    from django.core.management import call_command

    from turnup.ipam.models import IPAddress

    site = approved_site("CLI-02", edges=1)
    IPAddress.objects.filter(device__site=site, is_primary_mgmt=True).first().delete()
    with pytest.raises(SystemExit) as exit_info:
        call_command("up", site.name)
    assert exit_info.value.code == 2
    assert "preflight" in capsys.readouterr().err


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("--timeout", "0", "--timeout 0.0: give a number of seconds above 0"),
        ("--timeout", "-1", "--timeout -1.0: give a number of seconds above 0"),
        ("--timeout", "nan", "--timeout nan: give a number of seconds above 0"),
        ("--wait-console", "-5", "--wait-console -5.0: give a number of seconds, 0 or more"),
        ("--wait-console", "inf", "--wait-console inf: give a number of seconds, 0 or more"),
    ],
)
def test_cli_up_refuses_a_time_that_is_not_one(storage, enqueued, option, value, error):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from turnup.provisioning.models import Run

    site = approved_site("CLI-04", edges=1)
    with pytest.raises(CommandError) as raised:
        call_command("up", site.name, option, value)
    assert str(raised.value) == error
    assert not Run.objects.filter(site=site).exists(), "nothing started"


@pytest.mark.django_db
def test_cli_up_that_stops_following_a_running_run_says_so(storage, enqueued, capsys):
    """Exit status 3, not 1: the run did not fail, it goes on without the command."""
    from django.core.management import call_command

    from turnup.provisioning.models import Run

    site = approved_site("CLI-05", edges=1)
    call_command("up", site.name, "--no-wait")
    run = Run.objects.get(site=site)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        call_command("up", "--run", str(run.pk), "--timeout", "0.01")
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert f"run {run.pk} is still queued after --timeout; it goes on" in err
    assert f"turnup up --run {run.pk}" in err
    assert "not turned up" not in err
