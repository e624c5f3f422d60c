"""The console writer against an in-memory line and router with an input-buffer overrun model
(simulated time: these tests never sleep)."""

from __future__ import annotations

import pytest

from tests.provisioning.fakes import FakeRouter
from turnup.provisioning.drivers.base import (
    ConfigRejected,
    EchoMismatch,
    LineDropped,
    NoAnswer,
    scrub,
)
from turnup.provisioning.drivers.console import (
    IOS_CONFIG,
    IOS_CONFIG_BARE,
    ConsoleWriter,
    Outgoing,
    config_lines,
    mode_paths,
    navigate,
)


def bootstrap_text(interfaces: int = 8, *, keys: bool = True) -> str:
    lines = ["hostname LON-01-core-1"]
    for i in range(1, interfaces + 1):
        lines += [
            f"interface GigabitEthernet{i}",
            f" description to LON-01-edge-{i} xe-0/0/{i}",
            f" ip address 10.0.{i}.0 255.255.255.254",
            " no shutdown",
        ]
    lines += ["username admin privilege 15 secret 9 $9$abcdef"]
    if keys:
        lines += ["crypto key generate rsa modulus 2048"]  # busy, and prints output
    lines += ["ip ssh version 2", "!", "end"]
    return "\n".join(lines)


def sent_text(text: str) -> str:
    """The bytes the writer sends for ``text``: its lines plus the ``exit``s it navigates by."""
    lines = config_lines(text)
    paths = mode_paths(lines)
    items = [
        Outgoing(
            line.text, line, path=paths[line.number], enters=line.number if line.is_parent else None
        )
        for line in lines
    ]
    by_number = {line.number: line for line in lines}
    return "".join(item.text + "\n" for item in navigate(items, (), by_number))


def expected_state(text: str) -> list[tuple[str, str]]:
    state = []
    header = ""
    for line in config_lines(text):
        if line.parent is None:
            header = line.text if line.is_parent else ""
            state.append(("", line.text))
        else:
            state.append((header, line.text))
    return sorted(state)


def bare_router(**kwargs) -> FakeRouter:
    router = FakeRouter(**kwargs)
    router.prompt_config = False
    router.outq.clear()
    return router


def push(router: FakeRouter, text: str, *, style=IOS_CONFIG_BARE, **kwargs):
    writer = ConsoleWriter(router, baud=router.baud, clock=router.clock, style=style, **kwargs)
    lines = config_lines(text)
    return writer.push(lines)


def test_config_lines_keep_the_hierarchy_and_drop_comments_and_end():
    lines = config_lines("hostname R1\n!\ninterface Gi1\n description x\n no shutdown\nend\n")
    assert [line.text for line in lines] == [
        "hostname R1",
        "interface Gi1",
        "description x",
        "no shutdown",
    ]
    assert [line.parent for line in lines] == [None, None, 3, 3]
    assert [line.is_parent for line in lines] == [False, True, False, False]
    assert lines[2].number == 4


def test_only_whole_mode_words_enter_a_mode():
    text = (
        "router ospf 1\n router-id 10.0.0.1\n auto-cost reference-bandwidth 100000\n"
        "key chain K\n key 10\n  key-string x\nvlan 100\n name users\n"
    )
    lines = config_lines(text)
    modes = {line.text: line.is_parent for line in lines}
    assert modes["router ospf 1"] and modes["key chain K"] and modes["key 10"]
    assert modes["vlan 100"]
    assert not modes["router-id 10.0.0.1"]  # "router" is a mode, "router-id" is not
    # so the writer sends auto-cost under router ospf, not after an exit to global config
    by_number = {line.number: line for line in lines}
    paths = mode_paths(lines)
    items = [
        Outgoing(
            line.text, line, path=paths[line.number], enters=line.number if line.is_parent else None
        )
        for line in lines[:3]
    ]
    assert [item.text for item in navigate(items, (), by_number)] == [
        "router ospf 1",
        "router-id 10.0.0.1",
        "auto-cost reference-bandwidth 100000",
    ]


def test_pipelined_push_fills_the_line_without_overrunning_the_input_buffer():
    router = bare_router(buffer=64)
    report = push(router, bootstrap_text(keys=False), window=48)
    assert router.dropped == 0
    assert router.max_buffered <= 64
    assert report.max_inflight <= 48
    assert report.repairs == 0
    assert sorted(router.applied) == expected_state(bootstrap_text(keys=False))
    # Simulated time: the bare echo (no prompts) lets the push run close to the line rate.
    assert report.bytes_per_second >= 0.9 * 960


def test_prompts_after_every_line_halve_the_rate_which_is_why_the_driver_turns_them_off():
    router = FakeRouter(buffer=64)
    report = push(router, bootstrap_text(), style=IOS_CONFIG, window=48)
    assert router.dropped == 0
    assert sorted(router.applied) == expected_state(bootstrap_text())
    assert report.bytes_per_second < 0.6 * 960


def test_blasting_without_a_window_overruns_the_buffer_and_the_writer_notices():
    router = bare_router(buffer=16, line_delay=0.05)
    with pytest.raises(EchoMismatch) as caught:
        push(router, bootstrap_text(), window=100_000, max_repairs=0)
    assert router.dropped > 0
    assert caught.value.line is not None
    assert "line" in caught.value.message


def test_a_dropped_character_in_a_refused_line_is_repaired_by_sending_it_again():
    text = bootstrap_text(2)
    sent = sent_text(text)
    offset = sent.index("ip address 10.0.1.0") + 1  # the 'p': "i address" is refused
    router = bare_router(drop={offset})
    report = push(router, text, window=48)
    assert report.repairs == 1
    assert router.dropped == 1
    assert sorted(router.applied) == expected_state(text)
    # The router re-entered the interface before the line was sent again.
    mangled = router.commands.index("i address 10.0.1.0 255.255.255.254")
    assert router.commands[mangled + 1 :].count("interface GigabitEthernet1") == 1


def test_a_mangled_line_the_router_accepted_is_undone_then_sent_again():
    text = bootstrap_text(2)
    sent = sent_text(text)
    offset = sent.index("LON-01-edge-1")  # "description to ON-01-edge-1 …" is still valid
    router = bare_router(drop={offset})
    report = push(router, text, window=48)
    assert report.repairs == 1
    assert "no description to ON-01-edge-1 xe-0/0/1" in router.commands
    assert sorted(router.applied) == expected_state(text)


def test_a_lost_return_that_runs_two_lines_together_is_repaired():
    text = bootstrap_text(2)
    sent = sent_text(text)
    offset = sent.index("\n", sent.index("description to LON-01-edge-2"))
    router = bare_router(drop={offset})
    report = push(router, text, window=48)
    assert report.repairs == 1
    assert sorted(router.applied) == expected_state(text)


def test_a_mangled_mode_line_fails_naming_it_instead_of_guessing():
    text = bootstrap_text(2)
    sent = sent_text(text)
    offset = sent.index("interface GigabitEthernet2") + 2
    router = bare_router(drop={offset})
    with pytest.raises(EchoMismatch) as caught:
        push(router, text, window=48)
    assert caught.value.line == 6
    assert "interface GigabitEthernet2" in caught.value.message


def test_syslog_lines_between_and_inside_echoes_are_set_aside():
    text = bootstrap_text(3)
    for splice in (False, True):
        router = bare_router(syslog_after={"no shutdown"}, splice=splice)
        report = push(router, text, window=48)
        assert report.repairs == 0
        assert sorted(router.applied) == expected_state(text)
        assert any("%LINK-3-UPDOWN" in line for line in report.unsolicited)


def test_progress_is_reported_while_the_lines_cross_the_line():
    router = bare_router(buffer=64)
    seen: list[tuple[float, int]] = []
    writer = ConsoleWriter(
        router,
        baud=router.baud,
        clock=router.clock,
        style=IOS_CONFIG_BARE,
        window=48,
        progress=lambda sent: seen.append((router.clock(), sent)),
    )
    report = writer.push(config_lines(bootstrap_text(keys=False)))
    sizes = [sent for _, sent in seen]
    assert sizes == sorted(sizes) and sizes[-1] == report.bytes
    assert len(seen) >= report.seconds / 0.5  # about every half second, not once at the end
    gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:-1], strict=False)]
    assert all(gap >= 0.5 for gap in gaps)


def test_a_push_that_wakes_from_a_freeze_asks_its_progress_callback_before_sending_more():
    """The engine's progress callback is a fence: it stops the push of a delivery whose step
    may have been taken over while its process was frozen. It must run before the next
    piece goes out, or the frozen process sends one piece more onto a line that may be
    another delivery's by then."""
    router = bare_router(buffer=64)
    sent: list[int] = []
    send, recv = router.send, router.recv
    freeze = {"calls": 0, "sent_then": None}

    def counting_send(data: str) -> None:
        sent.append(len(data))
        send(data)

    def freezing_recv(timeout: float) -> str:
        freeze["calls"] += 1
        if freeze["calls"] == 40:
            freeze["sent_then"] = sum(sent)
            router.now += 13.0  # the process was stopped for 13 s while it waited here
        return recv(timeout)

    router.send, router.recv = counting_send, freezing_recv

    class TakenOver(Exception):
        pass

    last = {"at": router.clock()}

    def fence(_: int) -> None:
        if router.clock() - last["at"] > 12:
            raise TakenOver
        last["at"] = router.clock()

    writer = ConsoleWriter(
        router,
        baud=router.baud,
        clock=router.clock,
        style=IOS_CONFIG_BARE,
        window=48,
        progress=fence,
    )
    with pytest.raises(TakenOver):
        writer.push(config_lines(bootstrap_text(keys=False)))
    assert freeze["sent_then"] is not None and 0 < freeze["sent_then"] < router.received + 64
    assert sum(sent) == freeze["sent_then"], "not a byte after the freeze"


def test_syslog_right_after_a_blank_of_an_echo():
    # the echo breaks as "ip route " + message + "0.0.0.0 …": the blank at the break is
    # stripped with the line's end, and the two halves must still make the line we sent
    text = "interface Gi1\n no shutdown\nip route 0.0.0.0 0.0.0.0 192.0.2.1\n"
    for style, router in (
        (IOS_CONFIG_BARE, bare_router(syslog_after={"no shutdown"}, splice=True, splice_at=9)),
        (IOS_CONFIG, FakeRouter(syslog_after={"no shutdown"}, splice=True, splice_at=9)),
    ):
        report = push(router, text, style=style, window=48)
        assert report.repairs == 0
        assert sorted(router.applied) == expected_state(text)
        assert any("%LINK-3-UPDOWN" in line for line in report.unsolicited)


def test_syslog_inside_an_echo_with_prompts_on():
    text = bootstrap_text(3)
    router = FakeRouter(syslog_after={"no shutdown"}, splice=True)
    report = push(router, text, style=IOS_CONFIG, window=48)
    assert report.repairs == 0
    assert sorted(router.applied) == expected_state(text)
    assert report.unsolicited


def test_a_line_the_router_refuses_as_sent_fails_naming_the_line():
    text = "hostname R1\nfrobnicate everything\nip route 0.0.0.0 0.0.0.0 192.0.2.1\n"
    router = bare_router()
    with pytest.raises(ConfigRejected) as caught:
        push(router, text + "service prompt config\n", window=48)
    assert caught.value.line == 2
    assert "frobnicate" in caught.value.message


def test_a_line_that_drops_mid_push_is_reported_with_the_line_and_bytes():
    router = bare_router(close_after=200)
    with pytest.raises(LineDropped) as caught:
        push(router, bootstrap_text(), window=48)
    assert "dropped after" in caught.value.message
    assert caught.value.line is not None


def test_a_router_that_stops_answering_is_reported():
    router = bare_router(silent_after=120)
    with pytest.raises(NoAnswer) as caught:
        push(router, bootstrap_text(), window=48, idle_timeout=2.0)
    assert caught.value.line is not None
    assert "stopped answering" in caught.value.message


def test_scrub_removes_secrets_and_secret_arguments():
    text = "username admin privilege 15 secret 9 $9$abcdef\nenable secret hunter2\nok"
    cleaned = scrub(text, ["hunter2"])
    assert "hunter2" not in cleaned
    assert "$9$abcdef" not in cleaned
    assert cleaned.endswith("ok")
    # SNMPv3 users' keys (IOS localized, Junos), routing-protocol keys
    lines = {
        "snmp-server user nms ops v3 encrypted auth sha 9A:3B:01 priv aes 128 7F:00:C2": (
            "snmp-server user nms ops v3 encrypted auth sha ******** priv aes 128 ********"
        ),
        "set snmp v3 usm local-engine user nms authentication-sha authentication-key 0a1b": (
            "set snmp v3 usm local-engine user nms authentication-sha authentication-key ********"
        ),
        "set snmp v3 usm local-engine user nms privacy-aes128 privacy-key 0c2d": (
            "set snmp v3 usm local-engine user nms privacy-aes128 privacy-key ********"
        ),
        " ip ospf message-digest-key 1 md5 7 0822455D0A16": (
            " ip ospf message-digest-key 1 md5 7 ********"
        ),
        "  key-string 7 02050D480809": "  key-string 7 ********",
        "neighbor 192.0.2.1 send-community both": "neighbor 192.0.2.1 send-community both",
    }
    for line, shown in lines.items():
        assert scrub(line, []) == shown


def test_a_command_that_prints_output_in_bare_mode_is_not_taken_for_a_mangled_echo():
    text = bootstrap_text(1)
    router = bare_router(buffer=512)
    report = push(router, text, window=256)
    assert report.repairs == 0
    assert any("The name for the keys" in line for line in report.unsolicited)
    assert sorted(router.applied) == expected_state(text)


def test_a_mangled_last_line_is_still_caught():
    text = bootstrap_text(1)
    sent = sent_text(text)
    offset = sent.index("ip ssh version 2") + 4
    router = bare_router(drop={offset})
    report = push(router, text, window=48)
    assert report.repairs == 1
    assert sorted(router.applied) == expected_state(text)


@pytest.mark.parametrize("seed", range(80))
def test_any_single_lost_byte_is_repaired_or_named_never_silently_kept(seed):
    import random

    text = bootstrap_text(3)
    sent = sent_text(text)
    offset = random.Random(seed).randrange(len(sent))
    router = bare_router(drop={offset})
    try:
        report = push(router, text, window=48)
    except EchoMismatch as error:
        assert error.line is not None
        mode_lines = {line.number for line in config_lines(text) if line.is_parent}
        assert error.line in mode_lines
        return
    assert report.repairs >= 1
    assert sorted(router.applied) == expected_state(text)


def test_a_transport_failing_under_a_driver_call_is_named_as_the_steps_reason():
    from netmiko.exceptions import NetmikoParsingException, ReadException, ReadTimeout

    from turnup.provisioning.drivers.base import AuthFailed, LineDropped, NoAnswer
    from turnup.provisioning.drivers.console import ChannelClosed
    from turnup.provisioning.drivers.netmiko_channel import console_errors

    cases = [
        (EOFError("telnet connection closed"), LineDropped, "dropped while pushing"),
        (ChannelClosed("connection closed"), LineDropped, "dropped while pushing"),
        (ConnectionResetError("reset by peer"), LineDropped, "dropped while pushing"),
        (ReadException("Channel stream closed by remote device."), LineDropped, "dropped while"),
        (ReadTimeout("Pattern not detected: 'R1#'\nmore"), NoAnswer, "stopped answering while"),
    ]
    for raised, expected, words in cases:
        with pytest.raises(expected, match=words) as caught:
            with console_errors("cs1:3", "pushing"):
                raise raised
        assert "cs1:3" in caught.value.message
    # netmiko's read timing out on an SSH session the console server has closed
    with pytest.raises(LineDropped, match="dropped while pushing"):
        with console_errors("cs1:3", "pushing", closed=lambda: True):
            raise ReadTimeout("The command echo was not detected")
    # a driver's own verdict, and a bug, pass as they are
    with pytest.raises(AuthFailed):
        with console_errors("cs1:3", "pushing"):
            raise AuthFailed("refused")
    for bug in (KeyError("bug"), NetmikoParsingException("Unable to split output")):
        with pytest.raises(type(bug)):
            with console_errors("cs1:3", "pushing"):
                raise bug


def test_a_management_session_failing_under_a_driver_call_is_unreachable_or_silent():
    from netmiko.exceptions import ReadException, ReadTimeout

    from turnup.provisioning.drivers.base import NoAnswer, Unreachable
    from turnup.provisioning.drivers.console import ChannelClosed
    from turnup.provisioning.drivers.netmiko_channel import management_errors

    for raised in (ChannelClosed("closed"), ReadException("Channel stream closed by remote")):
        with pytest.raises(Unreachable, match="R1: the SSH session closed while saving"):
            with management_errors("R1", "saving the config"):
                raise raised
    with pytest.raises(NoAnswer, match="R1 stopped answering while saving"):
        with management_errors("R1", "saving the config"):
            raise ReadTimeout("Pattern not detected: 'R1#'")
    with pytest.raises(Unreachable):
        with management_errors("R1", "saving the config", closed=lambda: True):
            raise ReadTimeout("Pattern not detected: 'R1#'")


class _ParamikoChannel:
    """What netmiko's SSH channel asks of paramiko's: bytes buffered, and whether the far end
    has closed (paramiko's ``recv_ready()`` stays False on a closed channel)."""

    def __init__(self, buffered: bytes = b"") -> None:
        self.buffer = bytearray(buffered)
        self.closed = False
        self.eof_received = False

    def recv_ready(self) -> bool:
        return bool(self.buffer)

    def recv(self, size: int) -> bytes:
        chunk = bytes(self.buffer[:size])
        del self.buffer[:size]
        return chunk


def test_an_ssh_channel_the_console_server_closed_is_told_at_the_next_read():
    from netmiko.exceptions import ReadException

    from turnup.provisioning.drivers.netmiko_channel import closing_ssh_channel

    remote = _ParamikoChannel(b"R1#")
    channel = closing_ssh_channel()(conn=remote, encoding="utf-8")
    assert channel.read_channel() == "R1#"
    assert channel.read_channel() == ""  # open, nothing new: netmiko reads again later
    remote.buffer += b"ip ssh"
    remote.eof_received = True
    assert channel.read_channel() == "ip ssh"  # what came before the close is read first
    with pytest.raises(ReadException, match="closed"):
        channel.read_channel()
    remote.eof_received, remote.closed = False, True
    with pytest.raises(ReadException, match="closed"):
        channel.read_channel()


def test_the_ios_xe_management_calls_name_a_session_that_closed_under_them():
    from turnup.provisioning.drivers.base import (
        ConsoleTarget,
        Credentials,
        ManagementTarget,
        Unreachable,
    )
    from turnup.provisioning.drivers.iosxe import IosXeDriver

    class Closed:
        """A management session the router has closed: writing to it fails."""

        RETURN = "\n"
        remote_conn = None

        def write_channel(self, data: str) -> None:
            raise OSError("Socket is closed")

    driver = IosXeDriver(
        console=ConsoleTarget(host="127.0.0.1", port=2001),
        management=ManagementTarget(host="127.0.0.1"),
        credentials=Credentials(username="admin", password="x"),
        hostname="R1",
    )
    driver.mgmt = Closed()
    calls = [
        (driver.mgmt_running_config, "reading the running config"),
        (driver.mgmt_confirm, "saving the config"),
        (lambda: driver.mgmt_verify(hostname="R1", interfaces=[]), "verifying"),
    ]
    for call, doing in calls:
        with pytest.raises(Unreachable, match=f"R1: the SSH session closed while {doing}"):
            call()


def test_syslog_spliced_into_an_echo_or_after_a_prompt_is_taken_out():
    from turnup.provisioning.drivers.console import without_syslog

    message = "*Nov 29 21:50:07.673: %SYS-5-CONFIG_I: Configured from console by console"
    split = f"Router#show startup-confi\r\n{message}\r\ng\r\nstartup-config is not present\r\n"
    assert without_syslog(split + "Router#") == (
        "Router#show startup-config\r\nstartup-config is not present\r\nRouter#"
    )
    assert without_syslog(f"R1#\r\n{message}\r\n") == "R1#"
    refused = "R1(config)#ip routing x\r\n% Invalid input detected at '^' marker.\r\nR1(config)#"
    assert without_syslog(refused) == refused  # the router's answer is not a syslog message
