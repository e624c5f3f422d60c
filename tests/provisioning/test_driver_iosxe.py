"""The IOS-XE driver against the lab: a factory-fresh router through its console server, then
over the management network. (Tests may import the lab; turnup.provisioning never does.)"""

from __future__ import annotations

import time

import pytest

from tests.lab.conftest import RunningLab, console_target, free_port, lab_config
from tests.provisioning.conftest import assert_verify_waits_for_lldp
from turnup.provisioning.drivers.base import (
    AuthFailed,
    CommitFailed,
    Credentials,
    InterfaceExpectation,
    LineBusy,
    LineDropped,
    ManagementTarget,
    NoAnswer,
    NotFactory,
)
from turnup.provisioning.drivers.console import config_lines
from turnup.provisioning.drivers.iosxe import (
    IosXeDriver,
    archive_first,
    console_leftovers,
    missing_lines,
    with_parents,
)
from turnup.provisioning.drivers.netmiko_channel import NetmikoChannel

pytestmark = pytest.mark.slow

CREDS = Credentials(username="admin", password="Admin12345", enable_secret="Enable12345")
BOOTSTRAP = """\
hostname R1
ip domain name lab.example
enable secret 0 Enable12345
username admin privilege 15 secret 0 Admin12345
vrf definition MGMT
 address-family ipv4
 exit-address-family
interface GigabitEthernet0/0/1
 description management
 vrf forwarding MGMT
 ip address 10.9.0.5 255.255.255.0
 no shutdown
ip route vrf MGMT 0.0.0.0 0.0.0.0 10.9.0.1
crypto key generate rsa modulus 2048
ip ssh version 2
line vty 0 4
 login local
 transport input ssh
"""
FULL = (
    BOOTSTRAP
    + """\
interface Loopback0
 description router-id
 ip address 192.0.2.1 255.255.255.255
interface GigabitEthernet0/0/2
 description to r2 GigabitEthernet0/0/2
 ip address 10.0.0.0 255.255.255.254
 no shutdown
interface GigabitEthernet0/0/3
 description spare, shut by the design
 shutdown
router ospf 1
 router-id 192.0.2.1
banner login ^
Authorised access only.
^
"""
)


@pytest.fixture
def start_lab():
    labs: list[RunningLab] = []

    def start(config: dict) -> RunningLab:
        labs.append(RunningLab(config))
        return labs[-1]

    yield start
    for lab in labs:
        lab.close()


def ios(name="r1", **options):
    return {
        "name": name,
        "platform": "cisco_iosxe",
        "options": {"boot_seconds": 1, **options},
    }


def driver(lab, *, baud, method="telnet", password="cs-secret", mgmt_port=0, **kwargs):
    return IosXeDriver(
        console=console_target(lab, "r1", baud=baud, method=method, password=password),
        management=ManagementTarget(host="127.0.0.1", port=mgmt_port),
        credentials=CREDS,
        hostname="R1",
        **kwargs,
    )


def wait_for_management(lab, router="r1", seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline and not lab.call(lab.lab.mgmt.endpoints, lab.router(router)):
        time.sleep(0.1)


def bootstrapped(start_lab, **config):
    """A router through its console bootstrap (not saved), then a management session."""
    port = free_port()
    lab = start_lab(lab_config([ios()], mgmt_map={"10.9.0.5": f"127.0.0.1:{port}"}, **config))
    engine = driver(lab, baud=0, mgmt_port=port)
    engine.console_open()
    engine.console_push(BOOTSTRAP)
    engine.console_close()
    wait_for_management(lab)
    engine.mgmt_open()
    return lab, engine


def test_factory_router_from_console_to_saved_full_config(start_lab):
    port = free_port()
    options = {"enable_secret_prompt": True, "autoinstall_prompt": True, "pnp_messages": True}
    lab = start_lab(
        lab_config([ios(**options)], baud=9600, mgmt_map={"10.9.0.5": f"127.0.0.1:{port}"})
    )
    engine = driver(lab, baud=9600, mgmt_port=port)
    state = engine.console_open()
    assert state.factory
    assert {"dialog", "autoinstall", "secret"} <= set(state.notes)
    # the dialog proved the factory state: no line time spent reading the startup config
    assert "show startup-config" not in engine.output()
    assert "terminal width 511" in engine.output()
    sent: list[int] = []
    pushed = engine.console_push(BOOTSTRAP, progress=sent.append)
    assert pushed.changed and pushed.bytes > 400 and pushed.repairs == 0
    # live progress while the lines cross the 9600-baud line, ending at what was pushed
    assert sent[0] < sent[-1] == pushed.bytes and sent == sorted(sent)
    assert lab.line("r1").drops == 0
    assert "not saved" in engine.console_commit(confirm_minutes=5)
    engine.console_close()
    assert "hostname R1" not in (lab.router("r1").startup or "")  # nothing saved yet

    wait_for_management(lab)
    engine.mgmt_open()
    full = engine.mgmt_push(FULL)
    assert full.changed
    assert "interface Loopback0" in full.diff and "hostname R1" not in full.diff
    again = engine.mgmt_push(FULL)
    assert not again.changed  # idempotent: the router already has everything
    expected = [
        InterfaceExpectation(name="GigabitEthernet0/0/1", line_up=True),
        InterfaceExpectation(
            name="GigabitEthernet0/0/2", peer_device="r2", peer_port="GigabitEthernet0/0/2"
        ),
        InterfaceExpectation(name="GigabitEthernet0/0/3", enabled=False),
    ]
    verified = engine.mgmt_verify(hostname="R1", interfaces=expected)
    assert verified.ok, verified.problems
    assert verified.checks["interfaces"] == {
        "GigabitEthernet0/0/1": "up/up",
        "GigabitEthernet0/0/2": "up/up (to r2 GigabitEthernet0/0/2)",
        "GigabitEthernet0/0/3": "admin-down/down",
    }
    # a design that says otherwise than the router: each difference is named
    wrong = engine.mgmt_verify(
        hostname="R9",
        interfaces=[
            InterfaceExpectation(name="GigabitEthernet0/0/3"),
            InterfaceExpectation(name="GigabitEthernet0/0/2", enabled=False),
            InterfaceExpectation(name="GigabitEthernet0/0/9"),
        ],
    )
    assert not wrong.ok
    assert wrong.problems == [
        "hostname is 'R1', the design says 'R9'",
        "GigabitEthernet0/0/3 is shut down; the design enables it",
        "GigabitEthernet0/0/2 is not shut down; the design disables it",
        "GigabitEthernet0/0/9 is missing",
    ]
    assert engine.mgmt_confirm().endswith("saved")
    running = engine.mgmt_running_config()
    assert "ip route vrf MGMT 0.0.0.0 0.0.0.0 10.9.0.1" in running.splitlines()
    assert "banner login" in running and "Authorised access only." in running
    assert "service prompt" not in running  # the prompt, turned off for the push, is back
    assert "(config" not in pushed.output  # the push ran without per-line prompts
    # console logging was off while the lines went in (the management port coming up and
    # the new key said nothing on the line) and is back as IOS's default afterwards
    assert "%LINK-3-UPDOWN" not in pushed.output and "%SSH-5-ENABLED" not in pushed.output
    assert "logging console" not in running
    assert not running.startswith(("Building configuration", "Current configuration"))
    # the archive's comparison: IOS's own order and defaults are no difference, what the
    # router lacks is named with its modes, and the statements IOS never shows are counted
    held = engine.mgmt_compliance(FULL, running)
    assert held.compliant and held.checked == len(config_lines(FULL)) - 3 + 1  # a banner: one
    assert held.unverifiable == ("crypto key generate rsa modulus 2048",)
    drifted = FULL + "interface Loopback0\n ip ospf 1 area 0\nntp server 192.0.2.123\n"
    assert engine.mgmt_compliance(drifted, running).missing == (
        "interface Loopback0 > ip ospf 1 area 0",
        "ntp server 192.0.2.123",
    )
    engine.mgmt_close()
    assert "hostname R1" in lab.router("r1").startup
    assert "Admin12345" not in engine.output() and "Enable12345" not in engine.output()


def test_a_full_config_line_the_router_refuses_over_ssh_is_named(start_lab):
    from turnup.provisioning.drivers.base import ConfigRejected

    _, engine = bootstrapped(start_lab)
    bad = BOOTSTRAP + "interface Loopback0\n description ok\n frobnicate the widgets\n"
    with pytest.raises(ConfigRejected) as caught:
        engine.mgmt_push(bad)
    assert "refused the full config" in caught.value.message
    assert "frobnicate the widgets" in caught.value.message
    assert caught.value.reason == "config_rejected"
    engine.mgmt_close()


def test_resume_pushes_only_what_is_missing(start_lab):
    lab = start_lab(lab_config([ios()], baud=0))
    first = driver(lab, baud=0)
    first.console_open()
    first.console_push("hostname R1\ninterface Loopback1\n description half-way\n")
    first.console_close()
    second = driver(lab, baud=0)
    state = second.console_open()
    assert state.hostname == "R1" and state.factory
    pushed = second.console_push(
        "hostname R1\ninterface Loopback1\n description half-way\n ip address 192.0.2.9 "
        "255.255.255.255\n",
        resume=True,
    )
    assert pushed.diff.splitlines() == ["ip address 192.0.2.9 255.255.255.255"]
    second.console_close()


def test_a_resumed_bootstrap_reads_the_whole_running_config_on_a_slow_line(start_lab):
    """At 9600 baud `show running-config` comes a few bytes at a time; netmiko's pattern
    (the bare hostname) matched `hostname R1` in it, the read stopped there, and a resumed
    bootstrap found every later line missing and pushed the whole bootstrap again."""
    lab = start_lab(lab_config([ios()], baud=9600))
    first = driver(lab, baud=9600)
    first.console_open()
    first.console_push(BOOTSTRAP)
    first.console_close()
    second = driver(lab, baud=9600)
    assert second.console_open().hostname == "R1"
    pushed = second.console_push(BOOTSTRAP, resume=True)
    assert not pushed.changed and pushed.bytes == 0, pushed.diff
    assert "ip ssh version 2" in second.running_config_over_console()
    second.console_close()


@pytest.mark.parametrize("baud", [0, 9600])
def test_a_line_left_half_typed_is_erased_not_run_by_the_next_session(start_lab, baud):
    """A session that ends in the middle of a line (a worker killed, a line dropped) leaves
    it typed at the router. The next session's wake must not run it with its RETURN: cut
    short in a secret, it gave the router's user a secret nobody knows, and a resumed
    bootstrap saw the user there and left it (the management steps then failed to log in)."""
    lab = start_lab(lab_config([ios()], baud=baud))
    first = driver(lab, baud=baud)
    first.console_open()
    first.console_push("hostname R1\n")
    # mid-push: in configuration mode, half-way through the user's line
    first.channel.send("configure terminal\r")
    time.sleep(0.3)
    first.channel.send("username admin privilege 15 secret 0 Adm")
    time.sleep(0.2)
    first.console.remote_conn.close()  # the session ends there, as a killed worker's does
    first.console = None
    second = driver(lab, baud=baud)
    assert second.console_open().hostname == "R1"
    pushed = second.console_push(BOOTSTRAP, resume=True)
    second.console_close()
    assert "username admin privilege 15 secret 0 Admin12345" in pushed.diff.splitlines()
    router = lab.router("r1")
    assert router.check_login("admin", "Admin12345")
    assert not router.check_login("admin", "Adm")


class _CannedSession:
    """A netmiko connection stand-in that answers whatever is sent with one canned text."""

    remote_conn = None  # no socket to wait on: a read returns what is there

    def __init__(self, answer: str) -> None:
        self.answer, self.sent, self.channel = answer, [], self

    def write_channel(self, data: str) -> None:
        self.sent.append(data)

    def read_channel(self) -> str:
        answer, self.answer = self.answer, ""
        return answer


def test_a_syslog_message_after_the_prompt_does_not_hide_it(start_lab):
    """IOS writes a late ``%SYS-5-CONFIG_I`` (an earlier session's configuration) after its
    prompt and does not print the prompt again: the read must still end at that prompt (it
    waited 30 s and failed ``NoAnswer`` before, one resumed bootstrap in two on a busy machine)."""
    session = _CannedSession(
        "show ip ssh | include SSH\r\nSSH Disabled - version 1.99\r\nR1#\r\n"
        "*Nov 30 17:20:30.656: %SYS-5-CONFIG_I: Configured from console by console\r\n"
    )
    lab = start_lab(lab_config([ios()], baud=0))
    output, hostname = driver(lab, baud=0)._ask(
        session, "show ip ssh | include SSH", timeout=2, enter="\r"
    )
    assert (output, hostname) == ("SSH Disabled - version 1.99", "R1")
    assert session.sent == ["show ip ssh | include SSH\r"]


def test_a_resumed_bootstrap_generates_the_key_an_earlier_attempt_did_not_reach(start_lab):
    """`crypto key generate` never shows in the running config: whether the cut-off attempt
    got that far is asked of `show ip ssh`. Without the key SSH stays off."""
    lab = start_lab(lab_config([ios()], baud=0))
    first = driver(lab, baud=0)
    first.console_open()
    first.console_push(BOOTSTRAP.split("crypto key")[0])  # cut off before the key
    first.console_close()
    second = driver(lab, baud=0)
    assert second.console_open().hostname == "R1"
    pushed = second.console_push(BOOTSTRAP, resume=True)
    # what the factory running config lacks of the rest, the key first
    assert pushed.diff.splitlines() == [
        "crypto key generate rsa modulus 2048",
        "ip ssh version 2",
        "login local",
    ]
    second.console_close()
    assert lab.router("r1").rsa_modulus == 2048
    third = driver(lab, baud=0)
    third.console_open()
    again = third.console_push(BOOTSTRAP, resume=True)  # the key is there now: nothing to do
    assert not again.changed and "SSH Enabled" in third.output()
    third.console_close()


def test_a_router_with_a_saved_config_is_left_alone(start_lab):
    saved = "hostname OLD-1\ninterface Loopback0\n ip address 198.51.100.1 255.255.255.255\n"
    lab = start_lab(lab_config([{**ios(), "startup_config": saved}], baud=0))
    engine = driver(lab, baud=0)
    with pytest.raises(NotFactory) as caught:
        engine.console_open()
    assert "OLD-1" in caught.value.message
    engine.console_close()
    assert driver(lab, baud=0, overwrite=True).console_open().factory is False


def test_a_router_saved_with_its_designed_hostname_is_taken_up_only_by_a_retry(start_lab):
    """A saved config carrying the designed hostname: a first attempt finds a router turned
    up before (by another run) and leaves it alone; a retry of the step takes it up."""
    saved = "hostname R1\ninterface Loopback0\n ip address 198.51.100.1 255.255.255.255\n"
    lab = start_lab(lab_config([{**ios(), "startup_config": saved}], baud=0))
    engine = driver(lab, baud=0)
    with pytest.raises(NotFactory, match="turned up before, by another run — retry that run"):
        engine.console_open()
    engine.console_close()
    retried = driver(lab, baud=0, retrying=True)
    state = retried.console_open()
    assert state.factory and "hostname already ours: resuming" in state.notes
    retried.console_close()


def test_without_the_dialog_the_startup_config_is_read_to_tell_factory_state(start_lab):
    lab = start_lab(lab_config([ios(initial_dialog=False)], baud=0))
    engine = driver(lab, baud=0)
    state = engine.console_open()
    assert state.factory and "dialog" not in state.notes
    assert "startup-config is not present" in engine.output()
    # paging went off with the check: nothing is sent before a show command
    assert not engine.console_paging
    running = engine.running_config_over_console()
    # read to its end (netmiko strips the prompt after it, and the newline before the prompt)
    assert "\n!\nend" in running and "--More--" not in running
    assert engine.output().count("terminal length 0") == 1
    engine.console_close()


def test_a_show_command_after_the_dialog_turns_paging_off_first(start_lab):
    lab = start_lab(lab_config([ios()], baud=0))
    engine = driver(lab, baud=0)
    assert engine.console_open().factory
    assert engine.console_paging
    running = engine.running_config_over_console()
    # read to its end (netmiko strips the prompt after it, and the newline before the prompt)
    assert "\n!\nend" in running and "--More--" not in running
    assert not engine.console_paging
    engine.console_close()


def test_a_push_cut_off_after_the_prompt_went_off_is_taken_up_by_the_next_session(start_lab):
    """A worker killed mid-push leaves the router in configuration mode with its config
    prompt and console logging off: a RETURN is answered by a bare newline (after the
    error a half-typed line makes), and `configure
    terminal` by its banner alone. The next session still wakes it and pushes."""
    lab = start_lab(lab_config([ios()], baud=9600))
    first = driver(lab, baud=9600)
    first.console_open()
    # ... and a line half typed: the next RETURN makes it an incomplete command
    first.channel.send(
        "configure terminal\rno service prompt config\rno logging console\rip route vrf"
    )
    time.sleep(0.3)
    first.console.remote_conn.close()  # the session ends mid-push, nothing tidied up
    second = driver(lab, baud=9600, wake_timeout=20)
    state = second.console_open()
    assert state.factory and state.hostname == "Router"
    assert "\nend" in second.output()  # what brought the exec prompt back
    pushed = second.console_push(BOOTSTRAP)
    assert pushed.changed and pushed.repairs == 0
    second.console_close()
    running = lab.call(lab.router("r1").show_running)
    assert "hostname R1" in running
    assert "service prompt" not in running and "logging console" not in running


def test_console_logging_comes_back_as_the_saved_config_has_it(start_lab):
    saved = "hostname OLD-1\nlogging console warnings\n"
    lab = start_lab(lab_config([{**ios(), "startup_config": saved}], baud=0))
    engine = driver(lab, baud=0, overwrite=True)
    engine.console_open()
    engine.console_push("interface Loopback1\n no shutdown\n")
    engine.console_close()
    running = lab.call(lab.router("r1").show_running)
    assert "logging console warnings" in running.splitlines()
    assert "interface Loopback1" in running


def test_a_busy_line_is_reported_as_busy(start_lab):
    from netmiko import ConnectHandler

    lab = start_lab(lab_config([ios()], baud=0))
    holder = ConnectHandler(
        device_type="generic_termserver_telnet",
        host="127.0.0.1",
        port=lab.telnet_port("r1"),
        username="",
        password="",
    )
    try:
        with pytest.raises(LineBusy):
            driver(lab, baud=0).console_open()
    finally:
        holder.disconnect()


def test_a_line_that_drops_mid_push_names_the_line(start_lab):
    lab = start_lab(lab_config([ios()], baud=9600))
    engine = driver(lab, baud=9600)
    engine.console_open()
    line = lab.line("r1")
    line.faults.drop_after_bytes = line._session_bytes + 300  # both directions count
    with pytest.raises(LineDropped) as caught:
        engine.console_push(BOOTSTRAP)
    assert "dropped" in caught.value.message
    engine.console_close()


def test_a_router_that_stops_answering_is_reported(start_lab):
    lab = start_lab(lab_config([ios()], baud=0))
    lab.router("r1").faults.silent = True
    engine = driver(lab, baud=0, wake_timeout=4)
    with pytest.raises(NoAnswer):
        engine.console_open()
    engine.console_close()


def test_wrong_console_server_password_over_ssh(start_lab):
    lab = start_lab(lab_config([ios()], baud=0))
    engine = driver(lab, baud=0, method="ssh", password="not-it")
    with pytest.raises(AuthFailed):
        engine.console_open()


def test_console_server_ssh_with_the_line_in_the_user_name(start_lab):
    lab = start_lab(lab_config([ios()], baud=0))
    engine = driver(lab, baud=0, method="ssh")
    assert engine.console_open().factory
    assert engine.console_push("hostname R1\n").changed
    engine.console_close()


def test_missing_lines_compare_by_mode_path():
    rendered = config_lines("hostname R1\ninterface Gi1\n description a\n no shutdown\n")
    running = "hostname R1\ninterface Gi1\n description b\n"
    missing = missing_lines(rendered, running)
    assert [line.text for line in missing] == ["description a"]
    assert with_parents(missing, rendered) == ["interface Gi1", "description a"]
    shut = "hostname R1\ninterface Gi1\n description a\n shutdown\n"
    assert [line.text for line in missing_lines(rendered, shut)] == ["no shutdown"]


def test_a_refused_console_line_leaves_prompt_and_logging_as_they_were(start_lab):
    from turnup.provisioning.drivers.base import ConfigRejected

    lab = start_lab(lab_config([ios()], baud=0))
    engine = driver(lab, baud=0)
    engine.console_open()
    # refused in a mode, with a line at the top after it: the caret of the refusal stands in
    # column 0 (no prompt before the echo), and the exit back to the top must not take it
    # for its echo
    config = (
        "hostname R1\nline vty 0 4\n login local\n frobnicate the widgets\n"
        "ip domain name x.example\n"
    )
    with pytest.raises(ConfigRejected) as caught:
        engine.console_push(config)
    assert caught.value.line == 4
    engine.console_close()
    running = lab.call(lab.router("r1").show_running)
    assert "no logging console" not in running
    assert "no service prompt config" not in running
    assert "hostname R1" in running  # what went in before the refused line stays, unsaved


SSH_READY = """\
hostname {hostname}
ip domain name lab.example
username admin privilege 15 secret 0 Admin12345
interface GigabitEthernet0/0/1
 ip address {address} 255.255.255.0
interface GigabitEthernet0/0/2
 description to the other router
line vty 0 4
 login local
 transport input ssh
"""


def test_verification_waits_for_lldp_to_hear_a_far_end_that_started_it(start_lab):
    """r2 turns LLDP on while r1 already runs it: r1 hears r2's first advertisement only
    ``lldp_reinit`` later (as a real router does, seconds later): verification reads again
    until it shows, instead of recording the cable as not seen."""
    from netmiko import ConnectHandler

    ports = free_port(), free_port()
    timers = {"lldp_timer": 30, "lldp_reinit": 10}  # router seconds: 1.5 s and 0.5 s here
    r1 = {
        **ios("r1", **timers),
        "startup_config": SSH_READY.format(hostname="R1", address="10.9.0.5") + "lldp run\n",
    }
    r2 = {
        **ios("r2", **timers),
        "startup_config": SSH_READY.format(hostname="R2", address="10.9.0.6"),
    }
    lab = start_lab(
        lab_config(
            [r1, r2],
            time_scale=0.05,
            mgmt_map={"10.9.0.5": f"127.0.0.1:{ports[0]}", "10.9.0.6": f"127.0.0.1:{ports[1]}"},
            links=[{"a": "r1 Gi0/0/2", "b": "r2 Gi0/0/2"}],
        )
    )
    wait_for_management(lab, "r1")
    wait_for_management(lab, "r2")
    engine = driver(lab, baud=0, mgmt_port=ports[0])
    engine.mgmt_open()
    cabled = [
        InterfaceExpectation(
            name="GigabitEthernet0/0/2", peer_device="r2", peer_port="Gi0/0/2", await_neighbour=True
        )
    ]
    far = ConnectHandler(
        device_type="cisco_ios",
        host="127.0.0.1",
        port=ports[1],
        username="admin",
        password="Admin12345",
    )
    try:
        far.send_config_set(["lldp run"])  # r2's first advertisement goes out 0.5 s from now
        assert_verify_waits_for_lldp(
            engine,
            hostname="R1",
            cabled=cabled,
            port="GigabitEthernet0/0/2",
            seen="R2.lab.example Gi0/0/2",
        )
    finally:
        far.disconnect()
        engine.mgmt_close()


def test_the_reload_timer_is_armed_on_the_console_and_cancelled_before_saving(start_lab):
    port = free_port()
    lab = start_lab(lab_config([ios()], baud=9600, mgmt_map={"10.9.0.5": f"127.0.0.1:{port}"}))
    engine = driver(lab, baud=9600, mgmt_port=port, reload_timer=True)
    engine.console_open()
    engine.console_push(BOOTSTRAP)
    said = engine.console_commit(confirm_minutes=30)
    assert said == "not saved until verified; reload in 30 min armed as a safety net"
    router = lab.router("r1")
    # armed, and not by saving: the router's fallback is still its (empty) saved config
    assert "Reload scheduled in 30 minutes by console" in engine.output()
    assert "Save? [yes/no]: no" in engine.output()
    assert router.startup is None and router.reload_pending is not None
    engine.console_close()

    wait_for_management(lab)
    engine = driver(lab, baud=9600, mgmt_port=port, reload_timer=True)  # the next step's
    engine.mgmt_open()
    assert engine.mgmt_confirm() == "reload cancelled; saved"
    assert router.reload_pending is None and "hostname R1" in router.startup
    assert (
        engine._exchange(engine.mgmt, "show reload", timeout=10)[0]
        .strip()
        .endswith("No reload is scheduled.")
    )
    # saved again later (a retry's confirm): nothing to cancel, said so
    assert engine.mgmt_confirm() == "no reload was pending; saved"
    engine.mgmt_close()


def test_an_unconfirmed_reload_timer_brings_the_factory_router_back(start_lab):
    lab = start_lab(lab_config([ios()], baud=9600, time_scale=0.002))
    engine = driver(lab, baud=9600, reload_timer=True)
    engine.console_open()
    engine.console_push(BOOTSTRAP)
    engine.console_commit(confirm_minutes=5)  # 0.6 s at this time scale
    engine.console_close()
    router = lab.router("r1")
    assert router.running.find("hostname R1") is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (
        router.state() == "dialog" and router.running.find("hostname R1") is None
    ):
        time.sleep(0.1)
    # nobody cancelled it: the router reloaded to its saved config, factory-fresh again
    assert router.state() == "dialog", router.state()
    assert router.running.find("hostname R1") is None and router.reload_pending is None
    again = driver(lab, baud=9600, reload_timer=True)
    state = again.console_open()
    assert state.factory
    again.console_close()


ARCHIVED = FULL + "archive\n path bootflash:turnup-archive\n maximum 5\n"


def test_the_full_config_goes_in_under_a_revert_timer_that_confirm_keeps(start_lab):
    lab, engine = bootstrapped(start_lab)
    router = lab.router("r1")
    pushed = engine.mgmt_push(ARCHIVED, confirm_minutes=10)
    transcript = engine.output()
    # the archive block first, on its own (the rollback needs its path), then the rest
    # under the timer; the timer's archive holds the router as it was before that rest
    assert transcript.index("path bootflash:turnup-archive") < transcript.index(
        "configure terminal revert timer 10"
    )
    assert "interface Loopback0" in pushed.diff and pushed.confirm_pending
    assert router.revert_pending is not None
    assert "Loopback0" not in router.revert_pending[1]
    assert "path bootflash:turnup-archive" in router.revert_pending[1]
    # a second attempt (a takeover) finds it all there: the first one's timer may still run
    again = engine.mgmt_push(ARCHIVED, confirm_minutes=10)
    assert not again.changed and again.confirm_pending
    assert engine.mgmt_confirm(pushed=ARCHIVED) == "rollback timer confirmed; saved"
    assert router.revert_pending is None and "interface Loopback0" in router.startup
    # a later confirm (a retry's) finds nothing pending and the config all there: an
    # earlier attempt confirmed it, so it saves without a word of the timer
    assert engine.mgmt_confirm(pushed=ARCHIVED) == "saved"
    # the archive is in place now: a change goes under the timer from its first line
    engine.mgmt_push(ARCHIVED + "ntp server 192.0.2.123\n", confirm_minutes=10)
    assert router.revert_pending is not None
    assert "ntp server 192.0.2.123" not in router.revert_pending[1]
    engine.mgmt_close()


def test_an_unconfirmed_full_config_is_rolled_back_to_the_bootstrap(start_lab):
    lab, engine = bootstrapped(start_lab, time_scale=0.002)
    router = lab.router("r1")
    pushed = engine.mgmt_push(ARCHIVED, confirm_minutes=5)  # 0.6 s at this time scale
    assert pushed.confirm_pending
    assert router.running.find("interface Loopback0") is not None
    engine.mgmt_close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and router.revert_pending is not None:
        time.sleep(0.05)
    # nobody confirmed: the router is back where the full config found it, bootstrap and
    # archive path in place, so it answers over management as before
    assert router.revert_pending is None
    assert router.running.find("interface Loopback0") is None
    assert router.hostname == "R1" and router.archive_path() == "bootflash:turnup-archive"
    # the confirm comes in another session (the router's next step, perhaps another worker),
    # told what went in under the timer: IOS has nothing pending and the config is gone
    other = driver(lab, baud=0, mgmt_port=engine.mgmt_target.port)
    other.mgmt_open()
    gone = r"rolled back before it was confirmed \(its configure terminal revert timer ran out\)"
    with pytest.raises(CommitFailed, match=rf"{gone}; 10 of its 33 statements are gone: inter"):
        other.mgmt_confirm(pushed=ARCHIVED)
    assert router.startup is None  # nothing was saved
    # the next attempt pushes the full config again
    assert "interface Loopback0" in other.mgmt_push(ARCHIVED, confirm_minutes=5).diff
    other.mgmt_close()


def mgmt_lines(engine, text: str, *, configure: str = "configure terminal") -> bool:
    """Push ``text`` as it is over the management session (no comparison with the running
    config); whether the router came back to its prompt."""
    lines = config_lines(text)
    _, at_prompt = engine._push_lines(
        NetmikoChannel(engine.mgmt),
        lines,
        lines,
        baud=0,
        window=256,
        enter=engine.mgmt.RETURN,
        prompt_off=False,
        configure=configure,
    )
    return at_prompt


def test_a_revert_timer_the_router_refuses_falls_back_to_plain_configure(start_lab):
    lab, engine = bootstrapped(start_lab)
    # no archive path: IOS refuses the timer; the lines go in without it, nothing armed
    at_prompt = mgmt_lines(
        engine,
        "interface Loopback0\n description no archive path here\n",
        configure="configure terminal revert timer 5",
    )
    assert at_prompt and not engine.revert_armed
    assert "the archive path is not configured" in engine.output()
    assert lab.router("r1").running.find("interface Loopback0") is not None
    assert engine.mgmt_confirm() == "saved"
    engine.mgmt_close()


def test_the_full_config_turns_back_on_what_a_cut_off_console_push_left_off(start_lab):
    """A bootstrap cut off mid-push, then found over management, leaves the config prompt
    and console logging off (the console writer's own settings): the full config puts them
    back, so `write memory` does not save them off; once back, nothing is left to push."""
    lab, engine = bootstrapped(start_lab)
    router = lab.router("r1")
    mgmt_lines(engine, "no service prompt config\nno logging console\n")
    running = engine.mgmt_running_config()
    assert "no service prompt config" in running and "no logging console" in running
    pushed = engine.mgmt_push(ARCHIVED)
    assert pushed.diff.startswith("service prompt config\nlogging console\n")
    assert "interface Loopback0" in pushed.diff
    running = engine.mgmt_running_config()
    assert "no service prompt config" not in running and "no logging console" not in running
    assert router.running.find("no logging console") is None
    assert not engine.mgmt_push(ARCHIVED).changed
    # a design that keeps the console quiet keeps it so
    assert console_leftovers("no logging console\n", "no logging console\n") == []
    assert console_leftovers("logging console critical\n", "no logging console\n") == []
    engine.mgmt_close()


def test_the_archive_block_goes_first_only_while_the_router_has_no_archive_path():
    config = (
        "hostname R1\narchive\n path bootflash:turnup-archive\n log config\n  logging enable\n"
        "interface Loopback0\n description router-id\n"
    )
    everything = config_lines(config)
    texts = lambda lines: [line.text for line in lines]  # noqa: E731
    # a bootstrapped router: the whole archive block (its sub-mode too) first, the rest
    # under the timer
    first, rest, timed = archive_first(everything, everything, "hostname R1\n")
    assert texts(first) == [
        "archive",
        "path bootflash:turnup-archive",
        "log config",
        "logging enable",
    ]
    assert texts(rest) == ["hostname R1", "interface Loopback0", "description router-id"]
    assert timed
    # an archive without a path: only the path is missing, and it is enough
    lacking = missing_lines(everything, "hostname R1\narchive\n log config\n  logging enable\n")
    first, rest, timed = archive_first(lacking, everything, "archive\n log config\n")
    assert texts(first) == ["path bootflash:turnup-archive"] and timed
    # the router has a path: everything under the timer at once
    assert archive_first(everything, everything, "archive\n path flash:x\n") == (
        [],
        everything,
        True,
    )
    # a config without an archive: no timer (IOS would refuse it)
    plain = config_lines("hostname R1\n")
    assert archive_first(plain, plain, "") == ([], plain, False)
