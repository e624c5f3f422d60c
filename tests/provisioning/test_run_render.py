"""A run renders its site's configs once, when it starts; its steps push those archived configs
(no render per router step); a retry renders the retried routers again, so a design fixed
after a failure is what the retry pushes. (No worker: the graph's enqueue is captured.)"""

from __future__ import annotations

import pytest

from tests.provisioning.conftest import approved_site, free_ports


@pytest.fixture
def renders(monkeypatch):
    """How many renders ran, and for which devices."""
    from turnup.configs import services

    calls: list[list[int] | None] = []
    real = services.site_render

    def counted(**kwargs):
        calls.append(kwargs.get("device_ids"))
        return real(**kwargs)

    monkeypatch.setattr(services, "site_render", counted)
    return calls


def _bootstrap_step(run, device):
    return run.steps.select_related("run").get(device=device, name="bootstrap")


@pytest.mark.django_db
def test_run_renders_once_and_its_steps_push_the_archived_configs(
    storage, enqueued, renders, django_assert_num_queries
):
    from turnup.configs.models import ConfigVersion
    from turnup.dcim.models import Device
    from turnup.provisioning.services import _configs_for_push, run_start

    site = approved_site("RND-01", edges=3)
    run = run_start(site=site)
    devices = list(Device.objects.filter(pk__in=run.steps.values("device_id")))
    assert len(devices) == 4
    assert len(renders) == 1, "one render of the whole site, not one per router"
    assert set(run.config_versions) == {str(d.pk) for d in devices}
    for device in devices:
        ids = run.config_versions[str(device.pk)]
        versions = ConfigVersion.objects.filter(pk__in=ids.values())
        assert {(v.kind, v.hostname) for v in versions} == {
            ("bootstrap", device.name),
            ("full", device.name),
        }

    device = next(d for d in devices if d.name.endswith("er2"))
    step = _bootstrap_step(run, device)
    with django_assert_num_queries(1):  # the two versions; the texts come from storage
        configs = _configs_for_push(step, device, ("bootstrap", "full"))
    assert len(renders) == 1, "the step rendered nothing"
    ids = run.config_versions[str(device.pk)]
    assert configs["bootstrap"].version_id == ids["bootstrap"]
    assert configs["full"].version_id == ids["full"]
    assert f"hostname {device.name}" in configs["bootstrap"].text
    assert configs["full"].size == len(configs["full"].text.encode())
    assert configs["bootstrap"].platform == "cisco_iosxe"


@pytest.mark.django_db
def test_a_retry_pushes_the_design_as_fixed_since_the_failure(storage, enqueued, renders):
    from turnup.dcim.models import CredentialProfile, Device, Site
    from turnup.dcim.services import credential_profile_update
    from turnup.provisioning.models import RunStatus, StepStatus
    from turnup.provisioning.services import _configs_for_push, run_retry_failed, run_start

    site = approved_site("RND-02", edges=2)
    run = run_start(site=site)
    before = dict(run.config_versions)
    failed = Device.objects.get(name=f"{site.name.lower()}-er1")
    run.steps.filter(device=failed, name="bootstrap").update(status=StepStatus.FAILED)
    run.steps.filter(device=failed).exclude(name="bootstrap").update(status=StepStatus.SKIPPED)
    run.steps.exclude(device=failed).update(status=StepStatus.DONE)
    run.status = RunStatus.FAILED
    run.save(update_fields=["status"])
    Site.objects.filter(pk=site.pk).update(status="failed")  # the run has settled

    # the engineer fixes the design (frozen while the site was turning up): the bootstrap's
    # local user changes
    profile = CredentialProfile.objects.get(is_default=True)
    credential_profile_update(instance=profile, local_username="turnup-fixed")
    run = run_retry_failed(run=run)

    assert renders[-1] == [failed.pk], "only the retried router is rendered again"
    assert run.config_versions[str(failed.pk)] != before[str(failed.pk)]
    others = {k: v for k, v in run.config_versions.items() if k != str(failed.pk)}
    assert others == {k: v for k, v in before.items() if k != str(failed.pk)}
    configs = _configs_for_push(_bootstrap_step(run, failed), failed, ("bootstrap",))
    assert "username turnup-fixed " in configs["bootstrap"].text


@pytest.mark.django_db
def test_a_stored_text_that_is_gone_is_rendered_again(storage, enqueued, renders):
    from django.core.files.storage import default_storage

    from turnup.configs.models import ConfigVersion
    from turnup.dcim.models import Device
    from turnup.provisioning.services import _configs_for_push, run_start

    site = approved_site("RND-03", edges=1)
    run = run_start(site=site)
    device = Device.objects.get(name=f"{site.name.lower()}-er1")
    version = ConfigVersion.objects.get(pk=run.config_versions[str(device.pk)]["full"])
    default_storage.delete(version.storage_path)

    configs = _configs_for_push(_bootstrap_step(run, device), device, ("full",))
    assert renders[-1] == [device.pk]
    assert configs["full"].sha256 == version.sha256, "the same design renders the same text"
    assert f"hostname {device.name}" in configs["full"].text
    assert default_storage.exists(version.storage_path), "the text is stored back"
    rendered = len(renders)
    again = _configs_for_push(_bootstrap_step(run, device), device, ("full",))
    assert len(renders) == rendered, "the router's next step reads it instead of rendering"
    assert again["full"].text == configs["full"].text


@pytest.mark.django_db
def test_verification_awaits_lldp_only_from_routers_whose_full_config_is_in(
    storage, enqueued, django_assert_num_queries
):
    from turnup.dcim.models import Device
    from turnup.dcim.services import cable_create
    from turnup.provisioning.models import StepStatus
    from turnup.provisioning.selectors import run_lldp_peers
    from turnup.provisioning.services import (
        device_interface_expectations,
        device_targets,
        expectations_awaiting_lldp,
        run_start,
    )

    site = approved_site("LLD-01", edges=2)
    core_1, edge_1, edge_2 = free_ports(site, "cr1", "er1", "er2")
    cable_create(a_end=core_1, b_end=edge_1)
    (core_2,) = free_ports(site, "cr1")
    cable_create(a_end=core_2, b_end=edge_2)
    run = run_start(site=site)
    core = Device.objects.get(site=site, name="lld-01-cr1")
    edges = [edge_1.device, edge_2.device]
    with django_assert_num_queries(1):
        assert run_lldp_peers(run_id=run.pk) == set()
    run.steps.filter(device=edges[0], name="full_config").update(status=StepStatus.DONE)
    run.steps.filter(device=edges[1], name="full_config").update(status=StepStatus.FAILED)
    peers = run_lldp_peers(run_id=run.pk)
    assert peers == {edges[0].name}  # a full config that failed may not be in
    expected = device_interface_expectations(device=core, targets=device_targets(device=core))
    with django_assert_num_queries(1):
        expected = expectations_awaiting_lldp(expected, run_id=run.pk)
    awaited = {want.peer_device: want.await_neighbour for want in expected if want.peer_device}
    assert awaited == {edges[0].name: True, edges[1].name: False}
    alone = [want for want in expected if not want.peer_device]  # no cable: nothing to ask
    with django_assert_num_queries(0):
        assert expectations_awaiting_lldp(alone, run_id=run.pk) == alone


@pytest.mark.django_db
def test_a_router_turned_up_is_told_from_the_runs_context_or_as_the_design_is_now(
    storage, enqueued, django_assert_max_num_queries, monkeypatch
):
    from turnup.events.models import OutboxEvent
    from turnup.ipam.models import IPAddress
    from turnup.provisioning.services import _device_turned_up_event, run_start

    site = approved_site("EVT-03", edges=1)
    run = run_start(site=site)
    archives = list(run.steps.select_related("device").filter(name="archive").order_by("id"))
    _device_turned_up_event(archives[0])  # reads the run's design context once
    with django_assert_max_num_queries(2):  # the design revision, the INSERT
        _device_turned_up_event(archives[1])
    told = list(OutboxEvent.objects.filter(type="device.turned-up").order_by("id"))
    assert [e.data["device"] for e in told] == [a.device.name for a in archives]
    assert told[1].data["management_address"].startswith("127.")
    assert told[1].data["platform"] == "cisco_iosxe" and told[1].data["run_id"] == run.pk
    # the design lost the router's management address under the run (a write that raced the
    # run's start: the design freeze takes no lock): its last step is still recorded, and
    # told with what the design says now
    monkeypatch.setattr("turnup.core.changelog._guards", [])
    IPAddress.objects.filter(device=archives[1].device, is_primary_mgmt=True).delete()
    from turnup.core.changelog import changelog_record

    changelog_record(action="update", instances=[archives[1].device])  # a new design revision
    _device_turned_up_event(archives[1])
    last = OutboxEvent.objects.filter(type="device.turned-up").order_by("id").last()
    assert last.data["device"] == archives[1].device.name and last.data["management_address"] == ""
