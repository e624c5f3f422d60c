"""The Junos driver against the lab: console bootstrap with commit confirmed, then NETCONF."""

from __future__ import annotations

import time

import pytest

from tests.lab.conftest import RunningLab, console_target, free_port, lab_config
from tests.lab.test_junos import ROOT_HASH
from tests.provisioning.conftest import assert_verify_waits_for_lldp
from turnup.provisioning.drivers.base import (
    CommitFailed,
    ConfigRejected,
    Credentials,
    InterfaceExpectation,
    ManagementTarget,
    NotFactory,
)
from turnup.provisioning.drivers.junos import JunosDriver

pytestmark = pytest.mark.slow

PASSWORD = "Hello world!"  # what ROOT_HASH hashes
CREDS = Credentials(username="admin", password=PASSWORD, root_password=PASSWORD)
BOOTSTRAP = f"""\
set system host-name j1
set system root-authentication encrypted-password "{ROOT_HASH}"
set system login user admin class super-user authentication encrypted-password "{ROOT_HASH}"
set system services ssh
set system services netconf ssh
set system management-instance
set interfaces fxp0 unit 0 family inet address 10.9.0.5/24
set routing-instances mgmt_junos routing-options static route 0.0.0.0/0 next-hop 10.9.0.1
"""


@pytest.fixture
def start_lab():
    labs: list[RunningLab] = []

    def start(config: dict) -> RunningLab:
        labs.append(RunningLab(config))
        return labs[-1]

    yield start
    for lab in labs:
        lab.close()


def driver(lab, *, baud, port=0, method="telnet", **kwargs) -> JunosDriver:
    return JunosDriver(
        console=console_target(lab, "j1", baud=baud, method=method),
        management=ManagementTarget(host="127.0.0.1", port=port),
        credentials=CREDS,
        hostname="j1",
        **kwargs,
    )


def reachable_router(start_lab, *, baud):
    """A lab Junos router whose management address reaches a local port, and a driver."""
    port = free_port()
    lab = start_lab(
        lab_config(
            [{"name": "j1", "platform": "juniper_junos"}],
            baud=baud,
            mgmt_map={"10.9.0.5": f"127.0.0.1:{port}"},
        )
    )
    return lab, driver(lab, baud=baud, port=port)


def wait_for_management(lab) -> None:
    deadline = time.time() + 10
    while time.time() < deadline and not lab.call(lab.lab.mgmt.endpoints, lab.router("j1")):
        time.sleep(0.1)


def bootstrapped(start_lab, *, confirm_minutes: int):
    """A lab Junos router through its console bootstrap (committed confirmed) and
    reachable over management; the driver has no management session open yet."""
    lab, engine = reachable_router(start_lab, baud=0)
    engine.console_open()
    engine.console_push(BOOTSTRAP)
    engine.console_commit(confirm_minutes=confirm_minutes)
    engine.console_close()
    wait_for_management(lab)
    return lab, engine


def test_factory_junos_bootstrap_commit_confirmed_then_netconf(start_lab):
    lab, engine = reachable_router(start_lab, baud=9600)
    state = engine.console_open()
    assert state.factory and "amnesiac root login" in state.notes
    pushed = engine.console_push(BOOTSTRAP)
    assert pushed.changed and pushed.repairs == 0 and pushed.bytes >= len(BOOTSTRAP)
    assert lab.line("j1").drops == 0
    assert "commit confirmed" in engine.console_commit(confirm_minutes=5)
    engine.console_close()

    wait_for_management(lab)
    engine.mgmt_open()
    full = BOOTSTRAP + (
        "set snmp location lab\n"
        "set interfaces ge-0/0/1 unit 0 family inet address 10.0.0.0/31\n"
        "set interfaces ge-0/0/2 disable\n"
    )
    assert engine.mgmt_push(full).changed
    assert not engine.mgmt_push(full).changed
    verified = engine.mgmt_verify(
        hostname="j1",
        interfaces=[
            InterfaceExpectation(name="fxp0", line_up=True),
            InterfaceExpectation(name="ge-0/0/1.0", peer_device="r2", peer_port="ge-0/0/1"),
            InterfaceExpectation(name="ge-0/0/2", enabled=False),
        ],
    )
    assert verified.ok, verified.problems
    assert verified.checks["interfaces"] == {
        "fxp0": "up/up",
        "ge-0/0/1": "up/up (to r2 ge-0/0/1)",
        "ge-0/0/2": "admin-down/down",
    }
    assert engine.mgmt_confirm(pushed=full) == "confirmed (commit)"
    running = engine.mgmt_running_config()
    assert "set snmp location lab" in running
    # Junos compares: its own grouping of the set lines is no difference; what the router
    # lacks is named where it goes, and the candidate is rolled back afterwards
    held = engine.mgmt_compliance(full, running)
    assert held.compliant and held.checked == len(full.splitlines())
    drifted = full + "set snmp contact noc\nset interfaces ge-0/0/3 description spare\n"
    assert engine.mgmt_compliance(drifted, running).missing == (  # in the router's order
        "[edit interfaces] ge-0/0/3 description spare;",
        "[edit snmp] contact noc;",
    )
    assert engine.mgmt_running_config() == running
    assert not engine.mgmt_push(full).changed  # nothing left in the candidate, no lock held
    engine.mgmt_close()
    assert PASSWORD not in engine.output()


def test_a_full_config_rolled_back_before_its_confirm_is_not_made_permanent(start_lab):
    """The full config's `commit confirmed` runs out before the confirm comes (a stalled
    worker): Junos is back at the bootstrap, and the confirm, in another session and told
    what went in, fails naming what is gone instead of making the bootstrap permanent."""
    lab, engine = bootstrapped(start_lab, confirm_minutes=60)
    engine.mgmt_open()
    full = BOOTSTRAP + "set snmp location lab\n"
    pushed = engine.mgmt_push(full, confirm_minutes=1)  # 0.6 s at the lab's time scale
    assert pushed.changed and pushed.confirm_pending
    engine.mgmt_close()
    router = lab.router("j1")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and router.confirm_deadline is not None:
        time.sleep(0.05)
    assert router.history[0].comment == "rollback" and router.hostname == "j1"

    other = driver(lab, baud=0, port=engine.mgmt_target.port)
    other.mgmt_open()
    with pytest.raises(
        CommitFailed,
        match=r"rolled back before it was confirmed \(its commit confirmed ran out\); "
        r"1 of its 9 statements are gone: \[edit\] snmp location lab;",
    ):
        other.mgmt_confirm(pushed=full)
    assert router.history[0].comment == "rollback", "nothing was committed"
    # pushed again and confirmed in time, it stays
    assert other.mgmt_push(full, confirm_minutes=10).confirm_pending
    assert other.mgmt_confirm(pushed=full) == "confirmed (commit)"
    assert router.confirm_deadline is None and router.history[0].comment == "turnup confirmed"
    # a confirm taken over after that one finds nothing pending and the config all there
    assert other.mgmt_confirm(pushed=full) == "confirmed (commit)"
    other.mgmt_close()


def test_a_factory_junos_through_the_console_servers_ssh_service(start_lab):
    """The console server's SSH service (line in the user name) instead of its telnet port.
    The wake ends `cli` with a CR; netmiko's preparation then asked for a prompt with a bare
    LF, which the line took for the second half of that CR: it waited 20 s and failed, so no
    Junos behind an SSH-only console server could be turned up."""
    lab = start_lab(lab_config([{"name": "j1", "platform": "juniper_junos"}], baud=9600))
    engine = driver(lab, baud=9600, method="ssh")
    state = engine.console_open()
    assert state.factory and "amnesiac root login" in state.notes
    assert engine.console_push(BOOTSTRAP).changed
    engine.console_commit(confirm_minutes=60)
    engine.console_close()
    assert lab.router("j1").hostname == "j1"


def test_a_refused_set_line_is_named(start_lab):
    lab = start_lab(lab_config([{"name": "j1", "platform": "juniper_junos"}], baud=0))
    engine = driver(lab, baud=0)
    engine.console_open()
    with pytest.raises(ConfigRejected) as caught:
        engine.console_push("set system host-name j1\nset systen services ssh\n")
    assert caught.value.line == 2
    engine.console_close()


def test_a_push_cut_off_in_load_set_terminal_is_taken_up_by_the_next_session(start_lab):
    """A worker killed mid-push leaves `load set terminal` waiting for input: a RETURN is
    answered by a bare newline. The next session ends the input (Ctrl-D), rolls the half-loaded
    candidate back and pushes the whole bootstrap."""
    lab = start_lab(lab_config([{"name": "j1", "platform": "juniper_junos"}], baud=9600))
    first = driver(lab, baud=9600)
    first.console_open()
    first.channel.send("configure\r")
    time.sleep(0.5)
    first.channel.send("load set terminal\rset system host-name half-way\r")
    time.sleep(0.5)
    first.console.remote_conn.close()  # the session ends mid-push, nothing tidied up
    second = driver(lab, baud=9600, wake_timeout=25)
    assert second.console_open().factory
    assert "rollback 0" in second.output()
    assert second.console_push(BOOTSTRAP).changed
    second.console_commit(confirm_minutes=5)
    second.console_close()
    assert lab.router("j1").hostname == "j1"  # committed: the whole bootstrap, not half-way


def test_a_session_cut_off_in_configuration_mode_after_the_commit_is_taken_up(start_lab):
    """Cut off between `commit confirmed` and `exit configuration-mode`: the next session finds
    `[edit]` and `root@j1# ` — the configuration prompt, once the host-name is committed,
    and not the root shell it resembles (answering `cli` there only said "unknown command",
    until the wake gave up). It leaves configuration mode and finds the bootstrap its own."""
    lab = start_lab(lab_config([{"name": "j1", "platform": "juniper_junos"}], baud=9600))
    first = driver(lab, baud=9600)
    first.console_open()
    first.console_push(BOOTSTRAP)
    # 60 minutes are 36 s at the lab's time scale: no automatic rollback during the test
    first.console_commit(confirm_minutes=60)
    first.channel.send("configure\r")
    time.sleep(0.5)
    first.console.remote_conn.close()  # the session ends in configuration mode
    second = driver(lab, baud=9600, wake_timeout=25, retrying=True)
    state = second.console_open()
    assert state.hostname == "j1" and "hostname already ours: resuming" in state.notes
    assert "unknown command" not in second.output()
    second.console_close()
    # a first attempt (another run) finds a router turned up before, and leaves it alone
    with pytest.raises(NotFactory, match="turned up before, by another run"):
        driver(lab, baud=9600).console_open()


@pytest.mark.parametrize("after", [560, 600, 640])
def test_a_line_that_drops_while_logging_in_is_a_dropped_line(start_lab, after):
    """The console server hangs up after ``after`` bytes: in the login, in ``redispatch`` or
    in the first command netmiko sends. Each is recorded as a dropped line (which the step
    retries), never as the transport's own error (an internal error, not retried)."""
    from turnup.provisioning.drivers.base import LineDropped

    lab = start_lab(lab_config([{"name": "j1", "platform": "juniper_junos"}], baud=9600))
    lab.call(lambda: lab.lab.set_faults({"drop_after_bytes": after}, router="j1"))
    engine = driver(lab, baud=9600)
    with pytest.raises(LineDropped, match=r"console line .* dropped"):
        engine.console_open()
    engine.console_close()


def test_a_committed_router_is_left_alone(start_lab):
    saved = (
        f'system {{ host-name OLD-9; root-authentication {{ encrypted-password "{ROOT_HASH}"; }} }}'
    )
    lab = start_lab(
        lab_config([{"name": "j1", "platform": "juniper_junos", "startup_config": saved}], baud=0)
    )
    with pytest.raises(NotFactory) as caught:
        driver(lab, baud=0).console_open()
    assert "OLD-9" in caught.value.message


def test_netconf_rpcs_go_out_without_waiting_for_ncclients_session_thread(start_lab, monkeypatch):
    """ncclient's session thread sends a queued RPC only when it next wakes (every TICK);
    the driver writes RPCs itself. With the thread waking every 30 s, RPCs answer at once."""
    import ncclient.transport.session

    lab, engine = bootstrapped(start_lab, confirm_minutes=5)
    monkeypatch.setattr(ncclient.transport.session, "TICK", 30.0)
    engine.mgmt_open()
    engine.device.timeout = 5  # an RPC left in ncclient's queue would wait 30 s: RpcTimeoutError
    assert "set system host-name j1" in engine.mgmt_running_config()
    engine.mgmt_close()


def test_verification_waits_for_lldp_to_hear_a_far_end_that_started_it(start_lab):
    """j2 turns LLDP on while j1 already runs it: j1 hears j2's first advertisement only
    ``lldp_reinit`` later; verification reads the RPC again until it shows."""
    from jnpr.junos import Device
    from jnpr.junos.utils.config import Config

    from tests.lab.test_junos import netconf_ready

    ports = free_port(), free_port()
    timers = {"lldp_timer": 30, "lldp_reinit": 10}  # router seconds: 1.5 s and 0.5 s here
    lldp = "protocols { lldp { port-id-subtype interface-name; interface all; } }\n"
    j1 = netconf_ready("10.9.0.5", "    ge-0/0/1 { description to-j2; }\n") + lldp
    j2 = netconf_ready("10.9.0.6").replace("host-name j1", "host-name j2")
    lab = start_lab(
        lab_config(
            [
                {
                    "name": "j1",
                    "platform": "juniper_junos",
                    "startup_config": j1,
                    "options": timers,
                },
                {
                    "name": "j2",
                    "platform": "juniper_junos",
                    "startup_config": j2,
                    "options": timers,
                },
            ],
            time_scale=0.05,
            mgmt_map={"10.9.0.5": f"127.0.0.1:{ports[0]}", "10.9.0.6": f"127.0.0.1:{ports[1]}"},
            links=[{"a": "j1 ge-0/0/1", "b": "j2 ge-0/0/1"}],
        )
    )
    wait_for_management(lab)
    deadline = time.time() + 10
    while time.time() < deadline and not lab.call(lab.lab.mgmt.endpoints, lab.router("j2")):
        time.sleep(0.1)
    engine = driver(lab, baud=0, port=ports[0])
    engine.mgmt_open()
    cabled = [
        InterfaceExpectation(
            name="ge-0/0/1.0", peer_device="j2", peer_port="ge-0/0/1", await_neighbour=True
        )
    ]
    far = Device(host="127.0.0.1", port=ports[1], user="admin", passwd=PASSWORD)
    far.open()
    try:
        with Config(far, mode="exclusive") as cu:  # j2's first advertisement: 0.5 s from now
            cu.load(
                "set protocols lldp port-id-subtype interface-name\n"
                "set protocols lldp interface all",
                format="set",
            )
            cu.commit()
        assert_verify_waits_for_lldp(
            engine, hostname="j1", cabled=cabled, port="ge-0/0/1", seen="j2 ge-0/0/1"
        )
    finally:
        far.close()
        engine.mgmt_close()


def test_a_netconf_session_that_closes_is_unreachable_and_retried(start_lab):
    """PyEZ's and ncclient's errors are the driver's: a NETCONF session gone in the middle
    of a step is `unreachable` (retried in a new session), not an internal error."""
    from turnup.provisioning.drivers.base import Unreachable

    lab, engine = bootstrapped(start_lab, confirm_minutes=60)
    engine.mgmt_open()
    assert engine.device.timeout == 120, "a commit may take longer than PyEZ's 30 s"
    engine.device._conn._session.close()  # the router's end went away
    with pytest.raises(Unreachable, match="j1: the NETCONF session closed while verifying"):
        engine.mgmt_verify(hostname="j1", interfaces=[])
    assert Unreachable.retryable
    engine.mgmt_close()
    engine.mgmt_open()  # a new session works
    assert "set system host-name j1" in engine.mgmt_running_config()
    engine.mgmt_close()
