"""The turn-up graph through a real Celery worker (in this process, threads pool) against a
lab wired as the site's design says: routers configured, steps recorded, run settled."""

from __future__ import annotations

import difflib
import time

import pytest

from tests.provisioning.conftest import approved_site, free_ports, router_state
from turnup.events.models import OutboxEvent
from turnup.provisioning.drivers.base import same_port


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
    from turnup.dcim.services import cable_create, port_update
    from turnup.ipam.services import ip_address_create
    from turnup.provisioning.models import RunStatus, StepStatus
    from turnup.provisioning.services import run_start

    site = approved_site("GRT-01", edges=2)
    core_port, edge_port, spare_port = free_ports(site, "cr1", "er1", "er2")
    cable_create(a_end=core_port, b_end=edge_port)  # a link: verification must name it
    port_update(instance=spare_port, enabled=False)
    (core_spare,) = free_ports(site, "cr1")
    cable_create(a_end=spare_port, b_end=core_spare)  # designed shut at one end
    for port, address in [
        (core_port, "10.255.0.0/31"),
        (edge_port, "10.255.0.1/31"),
        (core_spare, "10.255.0.2/31"),
        (spare_port, "10.255.0.3/31"),
    ]:
        ip_address_create(address=address, assigned_interface=port)
    # LLDP on timers (`lldp timer 120`: 2.4 s at this lab's time scale): er1, whose LLDP
    # starts after the core's, hears the core only at the core's next advertisement
    lab = lab_of(site, options={"lldp_timer": 120, "lldp_reinit": 2})
    before = OutboxEvent.objects.order_by("id").last().pk
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
    for s in steps:
        if s.name != "bootstrap":
            # each management step records the opening (or taking over) of its session
            assert s.phases["reach_mgmt"] >= 0, (s.device.name, s.name, s.phases)
    for name in lab.lab.routers:
        state = router_state(lab, name)
        assert state["hostname"] == name
        assert f"hostname {name}" in state["saved"], "saved only after verification"
        bootstrap = next(s for s in steps if s.device.name == name and s.name == "bootstrap")
        assert state["bytes_in"] < 2 * bootstrap.bytes_total, "the bootstrap crossed the line once"
        assert state["mgmt_logins"] == 1, "one management session for the four management steps"
    for archive in (s for s in steps if s.name == "archive"):
        # the running config read back holds every rendered statement, IOS's order and
        # defaults notwithstanding
        assert archive.result["version_id"] and archive.result["compliant"], archive.message
        assert archive.result["checked"] > 20 and archive.result["missing"] == []
    assert run.summary["failed"] == [] and run.summary["findings"] == {}
    # other systems are told (through the outbox), in this order: the site turning up, each
    # router once, the run's end, the site going live
    told = list(OutboxEvent.objects.filter(key=site.name, id__gt=before).order_by("id"))
    turned_up = [e.data for e in told if e.type == "device.turned-up"]
    assert sorted(d["device"] for d in turned_up) == sorted(lab.lab.routers)
    assert all(d["run_id"] == run.pk and d["compliant"] for d in turned_up)
    assert all(d["management_address"] for d in turned_up)
    # and each router it brought up is active in the design
    assert set(site.devices.filter(status="active").values_list("name", flat=True)) == set(
        lab.lab.routers
    )
    assert [e.type for e in told] == [
        "site.status-changed",
        *["device.turned-up"] * len(lab.lab.routers),
        "run.finished",
        "site.status-changed",
    ]
    assert (told[0].data["previous"], told[0].data["status"]) == ("approved", "turning-up")
    assert told[-2].data["status"] == "succeeded" and told[-2].data["failed"] == {}
    assert sorted(told[-2].data["done"]) == sorted(lab.lab.routers)
    assert (told[-1].data["previous"], told[-1].data["status"]) == ("turning-up", "live")
    # verification compared every cabled port of the design, named with its far end
    from turnup.dcim.selectors import device_links

    shown = {
        s.device.name.rsplit("-", 1)[1]: s.result["checks"]["interfaces"]
        for s in steps
        if s.name == "verify"
    }
    lower = site.name.lower()
    # the core was verified before the edge routers were turned up: its link's line was down
    # (recorded, not failed) and it had no LLDP neighbour yet; er1, verified after the core
    # was live, waited for the core's next LLDP advertisement and saw the core's port at the
    # end of its cable
    assert shown["cr1"][core_port.name] == f"up/down (to {lower}-er1 {edge_port.name})"
    assert shown["er1"][edge_port.name] == f"up/up (to {lower}-cr1 {core_port.name})"
    assert shown["er2"][spare_port.name].startswith("admin-down/down (to ")
    neighbours = {
        s.device.name.rsplit("-", 1)[1]: s.result["checks"]["neighbours"]
        for s in steps
        if s.name == "verify"
    }
    assert neighbours["cr1"][core_port.name] == "none"
    seen = neighbours["er1"][edge_port.name].split()
    assert seen[0] == f"{lower}-cr1.{lower}.example.net" and same_port(seen[1], core_port.name)
    er1 = next(s for s in steps if s.name == "verify" and s.device.name == f"{lower}-er1")
    # (seen: it waited, unless the core's advertisement came in the few milliseconds
    # between er1's LLDP starting and its first read — 1 run in ~100; without the wait the
    # test fails but for those)
    assert "1 of 1 links seen over LLDP as cabled" in er1.message
    for step in (s for s in steps if s.name == "verify"):
        links = device_links(device=step.device)
        assert set(shown[step.device.name.rsplit("-", 1)[1]]) >= {link.name for link in links}
        assert f"{len(shown[step.device.name.rsplit('-', 1)[1]])} interfaces as designed" in (
            step.message
        )


@pytest.mark.slow
@pytest.mark.parametrize("console_method", ["telnet", "ssh"])
def test_junos_core_then_iosxe_edge(worker, lab_of, console_method):
    """Also through a console server reached over SSH only (the line in the user name, on the
    line's own port), as most are today."""
    from turnup.dcim.models import ConsoleServerPort, Site
    from turnup.dcim.services import cable_create
    from turnup.ipam.services import ip_address_create
    from turnup.provisioning.services import run_start

    site = approved_site("GRT-05", edges=1, junos_core=True, console_method=console_method)
    core_port, edge_port = free_ports(site, "cr1", "er1")
    cable_create(a_end=core_port, b_end=edge_port)
    ip_address_create(address="10.255.2.0/31", assigned_interface=core_port)
    ip_address_create(address="10.255.2.1/31", assigned_interface=edge_port)
    lab = lab_of(site)
    run = wait_finished(run_start(site=site))
    problems = [
        (s.device.name, s.name, s.reason, s.message)
        for s in run.steps.select_related("device")
        if s.status != "done"
    ]
    assert run.status == "succeeded", problems
    assert Site.objects.get(pk=site.pk).status == "live"
    # the edge router sees the Junos core's port by name over LLDP (the day-0 config sets
    # port-id-subtype interface-name; Junos would send a number otherwise)
    lower = site.name.lower()
    edge_verify = run.steps.get(device__name=f"{lower}-er1", name="verify")
    seen = edge_verify.result["checks"]["neighbours"][edge_port.name]
    assert seen == f"{lower}-cr1 {core_port.name}", seen
    core = run.steps.get(device__name=f"{site.name.lower()}-cr1", name="bootstrap")
    assert core.device.platform.slug == "juniper_junos"
    assert core.bytes_pushed > 0
    archived = run.steps.get(device=core.device, name="archive")
    assert archived.result["compliant"] and archived.result["checked"] > 20, archived.message
    for name in lab.lab.routers:  # NETCONF and SSH sessions alike are kept between steps
        assert lab.router(name).mgmt_logins == 1, name
    # the sessions went where the design says: the lab's lines listen on the designed ports
    # over the designed access method only
    designed = {
        (port.line, port.tcp_port)
        for port in ConsoleServerPort.objects.filter(device__site=site, cable__isnull=False)
    }
    lines = lab.call(lab.lab.status)["console_servers"][0]["lines"]
    used = {(entry["line"], entry[f"{console_method}_port"]) for entry in lines}
    assert used == designed
    assert all(entry["sessions"] >= 1 for entry in lines)


def set_faults(lab, router: str, **faults) -> None:
    lab.call(lambda: lab.lab.set_faults(faults, router=router))


def hold_line(site, device_name: str):
    """A console-line lock on ``device_name``'s line held by another (live) run."""
    from datetime import timedelta

    from django.utils import timezone

    from turnup.dcim.models import Device
    from turnup.provisioning.models import ConsoleLineLock, Run, Step
    from turnup.provisioning.services import device_targets

    device = Device.objects.get(name=device_name)
    other = Run.objects.create(site=site, status="succeeded")
    step = Step.objects.create(run=other, device=device, stage=0, order=0, name="bootstrap")
    console = device_targets(device=device).console
    now = timezone.now()
    return ConsoleLineLock.objects.create(
        key=console.key,
        server=console.server,
        run=other,
        step=step,
        taken=now,
        expires_at=now + timedelta(hours=1),
    )


def _steps(run):
    return {(s.device.name, s.name): s for s in run.steps.select_related("device")}


@pytest.mark.slow
def test_step_twice_configures_once_and_wrong_credentials_are_recorded(worker, lab_of):
    from turnup.dcim.models import CredentialProfile
    from turnup.dcim.services import credential_profile_update
    from turnup.provisioning.models import Step
    from turnup.provisioning.services import device_turnup_step, run_start

    site = approved_site("GRT-02", edges=0)
    lab = lab_of(site)
    run = wait_finished(run_start(site=site))
    assert run.status == "succeeded", run.summary
    name = f"{site.name.lower()}-cr1"
    bootstrap = _steps(run)[(name, "bootstrap")]
    before = router_state(lab, name)

    # a done step delivered again returns at once
    assert device_turnup_step(step_id=bootstrap.pk)["status"] == "done"
    # a bootstrap whose worker died after the push (running, heartbeat stale) is taken over:
    # it sees the bootstrap over management and leaves the console alone
    Step.objects.filter(pk=bootstrap.pk).update(status="running", heartbeat=None)
    assert device_turnup_step(step_id=bootstrap.pk)["status"] == "done"
    bootstrap.refresh_from_db()
    assert bootstrap.attempts == 2
    assert "already on the router" in bootstrap.message
    after = router_state(lab, name)
    assert after["bytes_in"] == before["bytes_in"], "the console was not used again"
    assert after["running"] == before["running"], "\n".join(
        difflib.unified_diff(before["running"].splitlines(), after["running"].splitlines())
    )

    # wrong credentials: the profile changed since the router was turned up
    profile = CredentialProfile.objects.get(is_default=True)
    credential_profile_update(instance=profile, local_password="not-what-the-router-has")
    verify = _steps(run)[(name, "verify")]
    Step.objects.filter(pk=verify.pk).update(status="pending")
    assert device_turnup_step(step_id=verify.pk)["status"] == "failed"
    verify.refresh_from_db()
    assert verify.reason == "auth_failed"
    assert "not-what-the-router-has" not in verify.log + verify.message


@pytest.mark.slow
def test_failures_are_recorded_others_carry_on_and_retry_takes_only_the_failed(worker, lab_of):
    from turnup.dcim.models import Site
    from turnup.provisioning.services import run_retry_failed, run_start

    site = approved_site("GRT-03", edges=3)
    lab = lab_of(site)
    lower = site.name.lower()
    before = OutboxEvent.objects.order_by("id").last().pk
    set_faults(lab, f"{lower}-er1", silent=True)
    set_faults(lab, f"{lower}-er2", drop_after_bytes=300)
    held = hold_line(site, f"{lower}-er3")  # another run's session on er3's console line
    run = wait_finished(run_start(site=site), timeout=300)
    steps = _steps(run)
    assert run.status == "failed"
    assert Site.objects.get(pk=site.pk).status == "failed"
    assert run.summary["done"] == [f"{lower}-cr1"]
    reasons = {name: entry["reason"] for name, entry in run.summary["devices"].items()}
    assert reasons == {
        f"{lower}-cr1": "",
        f"{lower}-er1": "no_answer",
        f"{lower}-er2": "line_dropped",
        f"{lower}-er3": "line_busy",
    }, {name: (e["reason"], e["message"]) for name, e in run.summary["devices"].items()}
    assert list(site.devices.filter(status="active").values_list("name", flat=True)) == [
        f"{lower}-cr1"
    ], "only the router that came up is active"
    for n in (1, 2, 3):
        boot = steps[(f"{lower}-er{n}", "bootstrap")]
        assert boot.status == "failed" and boot.attempts == 3 and boot.message
        assert steps[(f"{lower}-er{n}", "full_config")].status == "skipped"
    core_attempts = {k: s.attempts for k, s in steps.items() if k[0] == f"{lower}-cr1"}

    for n in (1, 2, 3):
        set_faults(lab, f"{lower}-er{n}", silent=False, drop_after_bytes=None)
        # power-cycled by the field engineer: factory-fresh again (nothing was saved)
        lab.call(lab.router(f"{lower}-er{n}").power_on)
    held.delete()
    run = wait_finished(run_retry_failed(run=run), timeout=300)
    steps = _steps(run)
    # only the failed routers were taken again; the core router's steps were not re-run
    assert {k: s.attempts for k, s in steps.items() if k[0] == f"{lower}-cr1"} == core_attempts
    for n in (1, 2, 3):
        assert steps[(f"{lower}-er{n}", "bootstrap")].attempts >= 4
    for n in (1, 3):  # er2's resumed push is the driver's business (see the README)
        assert run.summary["devices"][f"{lower}-er{n}"]["status"] == "done"
        assert router_state(lab, f"{lower}-er{n}")["hostname"] == f"{lower}-er{n}"
    # each router that came up was told once, across the two runs; each run's end was told
    told = OutboxEvent.objects.filter(key=site.name, id__gt=before)
    turned_up = [e.data["device"] for e in told if e.type == "device.turned-up"]
    assert sorted(turned_up) == sorted(run.summary["done"])
    assert len(set(turned_up)) == len(turned_up)
    active = site.devices.filter(status="active").values_list("name", flat=True)
    assert sorted(active) == sorted(run.summary["done"])
    ends = [e.data for e in told if e.type == "run.finished"]
    assert [e["status"] for e in ends] == ["failed", run.status]
    assert ends[0]["failed"][f"{lower}-er3"]["reason"] == "line_busy"


@pytest.mark.slow
def test_a_router_cabled_otherwise_than_designed_fails_its_verification(worker, lab_of):
    """Two edge routers' cables to the core swapped on site: each edge router's LLDP
    neighbour is the core's other port; its verification names both ends and the router is
    not saved. The core, verified before the edges were up, saw no neighbours yet. Never
    confirmed, an edge's rollback timer takes its full config back; recabled, retry-failed
    pushes it again over management (a retry that left the done full config step done found
    the interfaces shut, as the bootstrap left them)."""
    from turnup.dcim.services import cable_create
    from turnup.ipam.services import ip_address_create
    from turnup.provisioning.services import run_start

    site = approved_site("GRT-07", edges=2)
    lower = site.name.lower()
    core_1, edge_1, edge_2 = free_ports(site, "cr1", "er1", "er2")
    cable_create(a_end=core_1, b_end=edge_1)
    (core_2,) = free_ports(site, "cr1")
    cable_create(a_end=core_2, b_end=edge_2)
    for n, port in enumerate((core_1, edge_1, core_2, edge_2)):
        ip_address_create(address=f"10.255.1.{n}/31", assigned_interface=port)

    def swapped(links: list[dict]) -> list[dict]:
        ends = {f"{lower}-cr1 {core_1.name}", f"{lower}-cr1 {core_2.name}"}
        assert len([link for link in links if link["a"] in ends or link["b"] in ends]) == 2
        return [
            *(link for link in links if link["a"] not in ends and link["b"] not in ends),
            {"a": f"{lower}-cr1 {core_1.name}", "b": f"{lower}-er2 {edge_2.name}"},
            {"a": f"{lower}-cr1 {core_2.name}", "b": f"{lower}-er1 {edge_1.name}"},
        ]

    lab = lab_of(site, rewire=swapped)
    run = wait_finished(run_start(site=site))
    steps = _steps(run)
    assert run.status == "failed" and run.summary["failed"] == [f"{lower}-er1", f"{lower}-er2"]
    core = steps[(f"{lower}-cr1", "verify")]
    assert core.status == "done"
    assert core.result["checks"]["neighbours"] == {core_1.name: "none", core_2.name: "none"}
    verify = steps[(f"{lower}-er1", "verify")]
    assert verify.status == "failed" and verify.reason == "verify_failed"
    short = core_2.name.replace("GigabitEthernet", "Gi")  # as IOS advertises its port
    assert verify.message == (
        f"{edge_1.name} sees {lower}-cr1.{lower}.example.net {short} over LLDP; the design "
        f"cables it to {lower}-cr1 {core_1.name}"
    )
    assert steps[(f"{lower}-er1", "confirm")].status == "skipped"
    assert f"hostname {lower}-er1" not in router_state(lab, f"{lower}-er1")["saved"]
    # the site's topology draws both cables as cabled otherwise
    from turnup.web.selectors import site_topology

    _, links = site_topology(site=site)
    drawn = {(link.a_iface, link.b_iface): link.lldp for link in links if link.kind == "data"}
    assert drawn[(core_1.name, edge_1.name)] == drawn[(core_2.name, edge_2.name)] == "otherwise"
    # nobody confirmed its full config: the router puts back what it had before it (its
    # `configure terminal revert timer` runs out, 10 minutes are 12 s here), so it keeps
    # its bootstrap and answers over management as before, without the unverified rest
    edge = lab.router(f"{lower}-er1")
    assert steps[(f"{lower}-er1", "full_config")].result["changed"]  # `lldp run` with it
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and edge.revert_pending is not None:
        time.sleep(0.2)
    assert edge.revert_pending is None and edge.running.find("lldp run") is None
    assert edge.hostname == f"{lower}-er1" and edge.archive_path() == "bootflash:turnup-archive"
    # the site (lab) recabled as designed, retry-failed takes the two edges again: each
    # still answers over management with its hostname, so its console is not touched, and
    # its full config goes in again
    from turnup.lab.device import Port
    from turnup.provisioning.services import run_retry_failed

    def recable() -> None:
        core = lab.router(f"{lower}-cr1")
        for core_port, edge_port, name in ((core_1, edge_1, "er1"), (core_2, edge_2, "er2")):
            far = lab.router(f"{lower}-{name}")
            lab.lab.cabling.connect(
                Port(core, core.port_name(core_port.name)), Port(far, far.port_name(edge_port.name))
            )

    lab.call(recable)
    console_bytes = router_state(lab, f"{lower}-er1")["bytes_in"]
    run = wait_finished(run_retry_failed(run=run))
    steps = _steps(run)
    assert run.status == "succeeded", run.summary
    assert steps[(f"{lower}-er1", "bootstrap")].result["via"] == "management"
    assert router_state(lab, f"{lower}-er1")["bytes_in"] == console_bytes
    assert steps[(f"{lower}-er1", "full_config")].result["changed"]
    assert steps[(f"{lower}-er1", "confirm")].message == "rollback timer confirmed; saved"
    assert edge.running.find("lldp run") is not None and edge.revert_pending is None
    # recabled and turned up: the topology draws both cables as designed now
    _, links = site_topology(site=site)
    drawn = {(link.a_iface, link.b_iface): link.lldp for link in links if link.kind == "data"}
    assert drawn[(core_1.name, edge_1.name)] == drawn[(core_2.name, edge_2.name)] == "as designed"


@pytest.mark.slow
def test_cancel_stops_at_a_safe_point(worker, lab_of):
    from turnup.provisioning.models import Run
    from turnup.provisioning.services import run_cancel, run_start

    site = approved_site("GRT-04", edges=2, baud=9600)
    lab = lab_of(site)
    run = run_start(site=site)
    lower = site.name.lower()
    deadline = time.monotonic() + 60
    while not Run.objects.get(pk=run.pk).steps.filter(status="running").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    run_cancel(run=run)
    run = wait_finished(run)
    steps = _steps(run)
    assert run.status == "cancelled"
    core_boot = steps[(f"{lower}-cr1", "bootstrap")]
    assert core_boot.status == "done", (
        f"the console push in progress was finished: {core_boot.reason} {core_boot.message}"
        f" {core_boot.result.get('failed_attempts')}\n{core_boot.log}"
    )
    assert steps[(f"{lower}-cr1", "full_config")].status == "skipped"
    for n in (1, 2):
        assert {s.status for k, s in steps.items() if k[0] == f"{lower}-er{n}"} == {"skipped"}
        assert router_state(lab, f"{lower}-er{n}")["bytes_in"] == 0


def _failed_unreachable(lab_of, name: str, router: str, *, time_scale=0.04, **site_options):
    """Turn up site ``name`` with ``router``'s (``cr1``/``er1``) management network down (the
    lab's ``mgmt_down``): the run fails with that router alone. Returns the lab, the run and
    the router's name. The default time scale gives the routers confirmed in time a ~14 s
    safety net, time to confirm on a loaded machine."""
    from turnup.provisioning.services import run_start

    site = approved_site(name, edges=1, **site_options)
    failing = f"{site.name.lower()}-{router}"
    lab = lab_of(site, time_scale=time_scale)
    set_faults(lab, failing, mgmt_down=True)
    run = wait_finished(run_start(site=site), timeout=240)
    assert run.status == "failed" and run.summary["failed"] == [failing], run.summary
    return lab, run, failing


@pytest.mark.slow
def test_ios_reload_timer_takes_back_an_unverified_router_and_retry_turns_it_up(
    worker, lab_of, settings
):
    """With TURNUP_IOS_RELOAD_TIMER the IOS-XE bootstrap is committed under `reload in N`.
    A router the management network cannot reach is never confirmed: its timer reloads it to
    its saved config — factory-fresh — by itself. Its neighbours were confirmed: their timers
    were cancelled before saving. Once the network is fixed, retry-failed takes the router from
    its console bootstrap again."""
    from turnup.provisioning.services import run_retry_failed

    settings.TURNUP_IOS_RELOAD_TIMER = True
    settings.TURNUP_LLDP_WAIT_SECONDS = 0
    lab, run, edge = _failed_unreachable(lab_of, "GRT-12", "er1")
    core = edge.replace("-er1", "-cr1")
    steps = _steps(run)
    boot = steps[(edge, "bootstrap")]
    assert boot.status == "done" and "reload in" in boot.message and "armed" in boot.message
    full = steps[(edge, "full_config")]
    assert full.status == "failed" and full.reason == "unreachable", (full.reason, full.message)
    assert steps[(core, "confirm")].message == "rollback timer confirmed; reload cancelled; saved"
    assert lab.router(core).reload_pending is None

    # nobody confirms the edge: its timer runs out (its minutes are seconds at this time
    # scale, perhaps before its last attempt) and it reloads to its (empty) saved config
    router = lab.router(edge)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        router.state() == "dialog" and router.running.find(f"hostname {edge}") is None
    ):
        time.sleep(0.2)
    assert router.state() == "dialog", "back to factory state: the initial dialog"
    assert router.reload_reason == "Reload Command" and router.reload_pending is None
    # the core, confirmed and saved, kept running: its timer was cancelled
    assert router_state(lab, core)["hostname"] == core and lab.router(core).state() != "dialog"

    set_faults(lab, edge, mgmt_down=False)
    run = wait_finished(run_retry_failed(run=run), timeout=240)
    steps = _steps(run)
    assert run.status == "succeeded", run.summary
    boot = steps[(edge, "bootstrap")]
    # over management it did not answer, so the bootstrap went back over the console: the
    # factory router got the whole bootstrap again
    assert boot.result["factory"] is True and boot.result["changed"] is True
    assert boot.attempts >= 2 and boot.phases.get("reach_mgmt") is not None
    assert steps[(edge, "confirm")].message == "rollback timer confirmed; reload cancelled; saved"
    assert f"hostname {edge}" in router_state(lab, edge)["saved"]
    assert lab.router(edge).reload_pending is None
    # the core was not touched by the retry
    assert steps[(core, "bootstrap")].attempts == 1


@pytest.mark.slow
def test_junos_commit_confirmed_rolls_back_an_unreachable_router_and_retry_turns_it_up(
    worker, lab_of, settings
):
    """A Junos core the management network cannot reach is never confirmed: its bootstrap's
    `commit confirmed` runs out and rolls it back to the factory config. The edge after it is
    turned up all the same. Once the network is fixed, retry-failed takes the core from its
    console bootstrap again (a retry that only repeated the management steps would find
    nothing there to reach)."""
    from turnup.provisioning.services import run_retry_failed

    settings.TURNUP_LLDP_WAIT_SECONDS = 0
    lab, run, core = _failed_unreachable(lab_of, "GRT-13", "cr1", junos_core=True)
    edge = core.replace("-cr1", "-er1")
    steps = _steps(run)
    assert "commit confirmed" in steps[(core, "bootstrap")].message
    assert steps[(core, "full_config")].reason == "unreachable"
    assert run.summary["devices"][edge]["status"] == "done"

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and lab.router(core).hostname == core:
        time.sleep(0.2)
    assert lab.router(core).hostname != core, "rolled back: the bootstrap's host-name is gone"

    set_faults(lab, core, mgmt_down=False)
    run = wait_finished(run_retry_failed(run=run), timeout=240)
    steps = _steps(run)
    assert run.status == "succeeded", run.summary
    boot = steps[(core, "bootstrap")]
    assert boot.result["changed"] is True and boot.result.get("via") != "management"
    assert lab.router(core).hostname == core
    assert steps[(edge, "bootstrap")].attempts == 1, "the edge was not touched by the retry"


@pytest.mark.slow
def test_a_retried_router_that_kept_its_bootstrap_is_not_touched_on_its_console(
    worker, lab_of, settings
):
    """Without a safety net timer, an IOS-XE router whose management network was down keeps
    its bootstrap (unsaved). Retry-failed takes its bootstrap again, which finds it over
    management with its hostname and returns without using the console line."""
    from turnup.provisioning.services import run_retry_failed

    settings.TURNUP_LLDP_WAIT_SECONDS = 0
    lab, run, edge = _failed_unreachable(lab_of, "GRT-14", "er1", time_scale=0.02)
    set_faults(lab, edge, mgmt_down=False)
    console_bytes = router_state(lab, edge)["bytes_in"]

    run = wait_finished(run_retry_failed(run=run), timeout=240)
    steps = _steps(run)
    assert run.status == "succeeded", run.summary
    boot = steps[(edge, "bootstrap")]
    assert boot.attempts == 2 and boot.result["via"] == "management", boot.result
    assert boot.message == "bootstrap already on the router (checked over management)"
    assert router_state(lab, edge)["bytes_in"] == console_bytes, "the console was not used"
    assert f"hostname {edge}" in router_state(lab, edge)["saved"]


@pytest.mark.slow
def test_a_redesigned_live_site_takes_its_changes_over_management(worker, lab_of):
    """A site turned up, then redesigned (live → designed → approved) and turned up again,
    without overwrite: its routers are active and answer over management, so their
    consoles are not touched; the change goes in over management, verified and saved."""
    from turnup.dcim.services import cable_create, site_transition
    from turnup.ipam.services import ip_address_create
    from turnup.provisioning.models import RunStatus
    from turnup.provisioning.services import run_start

    site = approved_site("GRT-19", edges=1)
    core_port, edge_port = free_ports(site, "cr1", "er1")
    # a cable patched before the design knew of it: the redesign adds it
    patched = {"a": f"grt-19-cr1 {core_port.name}", "b": f"grt-19-er1 {edge_port.name}"}
    lab = lab_of(site, rewire=lambda links: [*links, patched])
    first = wait_finished(run_start(site=site))
    assert first.status == RunStatus.SUCCEEDED, first.summary
    console_in = {name: router_state(lab, name)["bytes_in"] for name in lab.lab.routers}
    site_transition(site=site, to_status="designed")
    cable_create(a_end=core_port, b_end=edge_port)
    ip_address_create(address="10.255.0.0/31", assigned_interface=core_port)
    ip_address_create(address="10.255.0.1/31", assigned_interface=edge_port)
    site_transition(site=site, to_status="approved")
    run = wait_finished(run_start(site=site))
    steps = list(run.steps.select_related("device"))
    problems = [(s.device.name, s.name, s.reason, s.message) for s in steps if s.status != "done"]
    assert run.status == RunStatus.SUCCEEDED, problems
    for step in (s for s in steps if s.name == "bootstrap"):
        assert step.result["via"] == "management", step.message
        assert step.message.startswith("the router is in service"), step.message
        assert step.bytes_pushed == 0
    for name in lab.lab.routers:
        assert router_state(lab, name)["bytes_in"] == console_in[name], f"{name}: console used"
    for name, address in (("grt-19-cr1", "10.255.0.0"), ("grt-19-er1", "10.255.0.1")):
        pushed = next(s for s in steps if s.device.name == name and s.name == "full_config")
        assert pushed.result["changed"], pushed.message
        saved = router_state(lab, name)["saved"]
        assert f"ip address {address} 255.255.255.254" in saved, "saved after verification"
    # the edge, turned up after the core, sees the core over the new cable
    verified = next(s for s in steps if s.device.name == "grt-19-er1" and s.name == "verify")
    assert verified.result["checks"]["neighbours"][edge_port.name] != "none", verified.message


@pytest.mark.slow
@pytest.mark.parametrize("when", ["before_the_push", "during_the_push"])
def test_a_delivery_that_lost_its_step_stops_at_its_fence(
    worker, enqueued, lab_of, monkeypatch, when
):
    """The console is open (or the bootstrap half typed) when the delivery's heartbeat has
    lagged past the stale time and another delivery took its step over. At its next fence —
    before the push, or the push's next progress report — it stops: it configures nothing
    more (the rest of the bootstrap, its commit), writes nothing on the step (the taker's),
    gives the console line back and runs no later step of the router."""
    from turnup.provisioning import services
    from turnup.provisioning.drivers.iosxe import IosXeDriver
    from turnup.provisioning.models import ConsoleLineLock, Step
    from turnup.provisioning.services import device_turnup_steps, run_start

    monkeypatch.setattr(services._HEARTBEATS, "_write", lambda steps, beat: None)  # lagging
    site = approved_site(f"GRT-{18 + (when == 'during_the_push')}", edges=0, baud=9600)
    lab = lab_of(site)
    run = run_start(site=site)
    name = f"{site.name.lower()}-cr1"
    steps = _steps(run)
    boot = steps[(name, "bootstrap")]
    seen: dict[str, object] = {}

    def taken_over() -> None:
        owner = Step.objects.get(pk=boot.pk).owner
        seen["lock_owner"], seen["owner"] = ConsoleLineLock.objects.get(step=boot).owner, owner
        seen["running"] = router_state(lab, name)["running"]
        Step.objects.filter(pk=boot.pk).update(owner="taker:1:1", attempts=2)
        services._HEARTBEATS.steps[(boot.pk, owner)].held_until = 0.0

    if when == "before_the_push":
        console_open = IosXeDriver.console_open

        def opened(driver):
            state = console_open(driver)
            taken_over()
            return state

        monkeypatch.setattr(IosXeDriver, "console_open", opened)
    else:
        console_push = IosXeDriver.console_push

        def pushing(driver, config, *, resume=False, progress=None):
            def reported(sent):
                if sent >= 100 and "owner" not in seen:  # the hostname and users are in
                    taken_over()
                progress(sent)

            return console_push(driver, config, resume=resume, progress=reported)

        monkeypatch.setattr(IosXeDriver, "console_push", pushing)
    said = device_turnup_steps(step_ids=[boot.pk, steps[(name, "full_config")].pk])
    assert said == [{"step": boot.pk, "status": "taken_over", "reason": ""}]
    assert seen["lock_owner"] == seen["owner"] != "", "the line was held by the delivery"
    boot = Step.objects.get(pk=boot.pk)
    assert (boot.status, boot.owner, boot.bytes_pushed) == ("running", "taker:1:1", 0)
    state = router_state(lab, name)
    assert "aaa authentication login default local" not in state["running"], "got through"
    if when == "before_the_push":
        assert state["running"] == seen["running"], "nothing was configured after the fence"
    assert not state["saved"], "nothing committed"
    assert not ConsoleLineLock.objects.filter(step=boot).exists(), "the line was given back"
    assert Step.objects.get(pk=steps[(name, "full_config")].pk).status == "pending"


@pytest.mark.slow
@pytest.mark.parametrize("junos_core", [False, True], ids=["iosxe", "junos"])
def test_a_full_config_its_timer_took_back_before_the_confirm_is_not_saved(
    worker, enqueued, lab_of, junos_core
):
    """The router's steps run one by one, each as a new task would (a new driver), and its
    rollback timer (IOS-XE `configure terminal revert timer`, Junos `commit confirmed`) runs
    out after verification, before the confirm: a worker stalled in between. The confirm
    step is told the full config went in under the timer, finds it gone and fails; nothing
    is saved and the archive step skips itself."""
    from turnup.provisioning.models import Step
    from turnup.provisioning.services import device_turnup_steps, run_start

    site = approved_site(f"GRT-{16 + junos_core}", edges=0, junos_core=junos_core)
    lab = lab_of(site)
    run = run_start(site=site)
    assert enqueued == [run.pk]
    name = f"{site.name.lower()}-cr1"
    steps = _steps(run)
    for step in ("bootstrap", "full_config", "verify"):
        assert device_turnup_steps(step_ids=[steps[(name, step)].pk])[0]["status"] == "done"
    assert Step.objects.get(pk=steps[(name, "full_config")].pk).result["confirm_pending"]
    router = lab.router(name)

    def timer_runs_out() -> None:
        if junos_core:
            router.confirm_handle.cancel()
            router._confirm_expired()
        else:
            router._revert_timer.cancel()
            router._revert_fire()

    lab.call(timer_runs_out)
    said = device_turnup_steps(step_ids=[steps[(name, "confirm")].pk, steps[(name, "archive")].pk])
    assert [s["status"] for s in said] == ["failed", "skipped"]
    confirm = Step.objects.get(pk=steps[(name, "confirm")].pk)
    assert confirm.reason == "commit_failed"
    timer = "commit confirmed" if junos_core else "configure terminal revert timer"
    assert f"rolled back before it was confirmed (its {timer} ran out)" in confirm.message
    if junos_core:
        assert router.history[0].comment == "rollback", "the rollback was not committed over"
    else:
        assert router.startup is None, "nothing was saved"
