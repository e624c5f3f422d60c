"""The serial line (pacing, input buffer, overrun), the console server and faults,
driven in-process."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest
from ntc_templates.parse import parse_output

from turnup.lab.device import Clock, Faults, RouterSpec, build_router
from turnup.lab.lab import Lab, LabFileError
from turnup.lab.line import Line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    def __init__(self):
        self.data = bytearray()
        self.closed = False

    def send(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.closed = True

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")


async def until(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.005)


async def ready_router(*, baud: int = 0, time_scale: float = 0.001, startup=None, **options):
    """A router past its dialogs, at ``Router#``, with a client on its line."""
    clock = Clock(time_scale=time_scale)
    spec = RouterSpec(
        name="r1",
        platform="cisco_iosxe",
        startup_config=startup,
        options={"pnp_messages": False, "boot_seconds": 0.1, **options},
    )
    router = build_router(spec, clock)
    line = Line(1, router, clock=clock, baud=baud)
    client = Client()
    line.connect(client)
    router.power_on()
    if startup is None:
        await until(lambda: "[yes/no]:" in client.text)
        line.from_client(b"no\r")
    await until(lambda: "Press RETURN" in client.text)
    line.from_client(b"\r")
    await until(lambda: client.text.rstrip().endswith(">"))
    line.from_client(b"enable\rterminal length 0\r")
    await until(lambda: client.text.count("#") >= 2)
    return router, line, client


async def command(line: Line, client: Client, text: str, prompt: str = "#") -> str:
    start = len(client.data)
    line.from_client(text.encode() + b"\r")
    await until(
        lambda: client.text[start:].rstrip().endswith(prompt) and "\n" in client.text[start:]
    )
    return client.text[start:]


async def show(line: Line, client: Client, text: str) -> str:
    """Command output without the echoed command and the trailing prompt (as netmiko gives)."""
    out = await command(line, client, text)
    return "\n".join(out.replace("\r\n", "\n").split("\n")[1:-1])


def test_a_global_line_typed_under_an_interface_leaves_the_interface():
    # "ip route" is ambiguous under an interface (ip route-cache, ip router): IOS takes it
    # in the global mode, as every engineer who forgot an `exit` has seen
    async def scenario():
        router, line, client = await ready_router()
        await command(line, client, "configure terminal", ")#")
        await command(line, client, "interface GigabitEthernet0/0/0", ")#")
        out = await command(line, client, "ip route 0.0.0.0 0.0.0.0 192.0.2.1", ")#")
        assert "% " not in out and out.rstrip().endswith("Router(config)#")
        await command(line, client, "end")
        config = router.render_config()
        assert "\nip route 0.0.0.0 0.0.0.0 192.0.2.1" in config
        assert " ip route" not in config and "ip router" not in config

    asyncio.run(scenario())


def test_invalid_input_caret_is_under_the_bad_word():
    async def scenario():
        router, line, client = await ready_router()
        await command(line, client, "configure terminal", ")#")
        out = await command(line, client, "interface GigabitEthernet0/0/0", ")#")
        out = await command(line, client, "ip adress 10.0.0.1 255.255.255.0", ")#")
        lines = out.split("\r\n")
        caret = next(x for x in lines if x.strip() == "^")
        prompt = "Router(config-if)#"
        assert caret.index("^") == len(prompt) + len("ip ")
        assert "% Invalid input detected at '^' marker." in out
        out = await command(line, client, "hostnme R2", ")#")
        assert "% Invalid input detected" in out
        out = await command(line, client, "end")
        assert "ip adress" not in router.render_config()

    asyncio.run(scenario())


def test_paging_and_ntc_templates_parse_show_output():
    async def scenario():
        router, line, client = await ready_router()
        await command(line, client, "configure terminal", ")#")
        for text in [
            "hostname EDGE1",
            "interface Loopback0",
            "description router-id",
            "ip address 192.0.2.1 255.255.255.255",
            "interface Gi0/0/2",
            "description to core",
            "ip address 10.1.0.1 255.255.255.254",
            "no shutdown",
        ]:
            await command(line, client, text, ")#")
        await command(line, client, "end")
        brief = parse_output(
            "cisco_ios",
            "show ip interface brief",
            await show(line, client, "show ip interface brief"),
        )
        by_name = {row["interface"]: row for row in brief}
        assert by_name["Loopback0"]["ip_address"] == "192.0.2.1"
        assert by_name["GigabitEthernet0/0/2"]["status"] == "up"
        assert by_name["GigabitEthernet0/0/3"]["status"] == "administratively down"
        desc = parse_output(
            "cisco_ios",
            "show interfaces description",
            await show(line, client, "show interfaces description"),
        )
        assert {"port": "Gi0/0/2", "status": "up", "protocol": "up", "description": "to core"} in [
            {k: row[k] for k in ("port", "status", "protocol", "description")} for row in desc
        ]
        inventory = parse_output(
            "cisco_ios", "show inventory", await show(line, client, "show inventory")
        )
        assert inventory[0]["pid"] == "C8300-1N1S-6T"
        # paging: with terminal length 10 the running config stops at --More--
        await command(line, client, "terminal length 10")
        start = len(client.data)
        line.from_client(b"show running-config\r")
        await until(lambda: "--More--" in client.text[start:])
        assert router.state() == "more"
        line.from_client(b"q")
        await until(lambda: client.text.rstrip().endswith("EDGE1#"))
        assert router.state() == "exec"

    asyncio.run(scenario())


def test_write_memory_reload_and_non_factory_start():
    async def scenario():
        router, line, client = await ready_router()
        await command(line, client, "configure terminal", ")#")
        await command(line, client, "hostname KEEP", ")#")
        await command(line, client, "banner login ^", "")
        await command(line, client, "Authorised access only", "")
        await command(line, client, "^", ")#")
        await command(line, client, "end")
        line.from_client(b"copy running-config startup-config\r")
        await until(lambda: "[startup-config]? " in client.text)
        line.from_client(b"\r")
        await until(lambda: "[OK]" in client.text)
        line.from_client(b"reload\r")
        await until(lambda: "[confirm]" in client.text)
        line.from_client(b"\r")
        await until(lambda: client.text.count("Press RETURN") >= 2)
        line.from_client(b"\r")
        await until(lambda: client.text.rstrip().endswith("KEEP>"))
        assert "Authorised access only" in router.render_config()
        # a router that starts with a non-factory config skips the dialog
        other, line2, client2 = await ready_router(startup="hostname OLD\n!\nend\n")
        assert "[yes/no]" not in client2.text
        assert other.hostname == "OLD"

    asyncio.run(scenario())


def test_reload_in_is_a_timer_that_reload_cancel_stops_and_show_reload_tells():
    async def scenario():
        router, line, client = await ready_router(time_scale=0.0005)
        assert "No reload is scheduled." in await show(line, client, "show reload")
        out = await command(line, client, "reload in 0", "#")
        assert "% Invalid input" in out and router.reload_pending is None
        out = await command(line, client, "reload in 1:75", "#")
        assert "% Invalid input" in out
        assert "%No reload is scheduled." in await command(line, client, "reload cancel")
        # nothing saved yet: Save? (no), the schedule, then [confirm]
        line.from_client(b"reload in 20:00\r")  # 36 s of real time here
        await until(lambda: "Save? [yes/no]: " in client.text)
        line.from_client(b"no\r")
        await until(lambda: "[confirm]" in client.text)
        assert "Reload scheduled in 1200 minutes by console" in client.text
        line.from_client(b"\r")
        await until(lambda: client.text.rstrip().endswith("#"))
        shown = await show(line, client, "show reload")
        # the time left, in router time (a real millisecond is two seconds here)
        pattern = r"Reload scheduled in (?:1[01]\d\d|1200) minutes and \d+ seconds by console\n"
        assert re.match(pattern, shown), shown
        assert router.reload_pending is not None
        out = await command(line, client, "reload cancel")
        assert "SHUTDOWN ABORTED" in client.text and router.reload_pending is None
        # a changed config is not saved by the timer's question answered no; the timer
        # runs out (1 minute is 30 ms here) and the router boots its saved (empty) config
        await command(line, client, "configure terminal", ")#")
        await command(line, client, "hostname GONE", ")#")
        await command(line, client, "end", "GONE#")
        line.from_client(b"reload in 1\r")
        await until(lambda: client.text.count("Save? [yes/no]: ") >= 2)
        line.from_client(b"no\r")
        await until(lambda: client.text.count("[confirm]") >= 2)
        line.from_client(b"\r")
        await until(lambda: "SHUTDOWN NOW" in client.text, timeout=20)
        at = client.text.index("SHUTDOWN NOW")
        # booted again: the factory dialog after the shutdown, not the questions before it
        await until(lambda: "configuration dialog? [yes/no]:" in client.text[at:], timeout=20)
        assert router.hostname != "GONE" and router.startup is None

    asyncio.run(scenario())


def test_configure_revert_timer_rolls_back_unless_configure_confirm_comes():
    async def scenario():
        router, line, client = await ready_router(time_scale=0.0005)
        # without an archive path there is nothing to roll back to: refused, no config mode
        out = await command(line, client, "configure terminal revert timer 5")
        assert "archive path is not configured" in out and router.revert_pending is None
        await command(line, client, "configure terminal", ")#")
        for text in ("hostname BASE", "archive", "path bootflash:turnup-archive", "end"):
            await command(line, client, text, ")#" if text != "end" else "BASE#")
        for bad in ("configure terminal revert timer 0", "configure terminal revert timer 121"):
            assert "% Invalid input" in await command(line, client, bad, "BASE#")
        assert "% Incomplete" in await command(line, client, "conf t revert", "BASE#")
        assert "%No Rollback Confirmed Change pending" in await command(
            line, client, "configure confirm", "BASE#"
        )
        # confirmed in time: the change stays, nothing is rolled back
        await command(line, client, "conf t revert timer 120", ")#")  # 3.6 s of real time
        assert "Scheduled to rollback to config bootflash:turnup-archive-" in client.text
        await command(line, client, "hostname KEPT", ")#")
        await command(line, client, "end", "KEPT#")
        await command(line, client, "configure confirm", "KEPT#")
        assert "ROLLBK_CNFMD_CHG_CONFIRM" in client.text and router.revert_pending is None
        # not confirmed: after its minute (30 ms here) the archived config comes back,
        # with every change made since, by any session, gone
        await command(line, client, "configure terminal revert timer 1", ")#")
        await command(line, client, "hostname LOST", ")#")
        await command(line, client, "interface Loopback7", ")#")
        await command(line, client, "end", "LOST#")
        await until(lambda: "Start rolling to: bootflash:turnup-archive-" in client.text)
        assert router.hostname == "KEPT" and router.revert_pending is None
        assert "Loopback7" not in router.render_config()
        assert "path bootflash:turnup-archive" in router.render_config()
        assert router.startup is None  # a rollback saves nothing

    asyncio.run(scenario())


def windowed_push(line: Line, client: Client, lines: list[str], window: int):
    """Pipeline lines, keeping at most ``window`` bytes sent but not yet echoed."""

    async def run():
        sent = 0
        cursor = len(client.data)
        pending: list[bytes] = []
        unconfirmed = 0
        while sent < len(lines) or pending:
            while sent < len(lines) and unconfirmed + len(lines[sent]) + 1 <= window:
                data = lines[sent].encode() + b"\r"
                line.from_client(data)
                pending.append(lines[sent].encode() + b"\r\n")
                unconfirmed += len(data)
                sent += 1
            await asyncio.sleep(0.002)
            while pending:
                at = client.data.find(pending[0], cursor)
                if at < 0:
                    break
                cursor = at + len(pending[0])
                unconfirmed -= len(pending[0]) - 1
                pending.pop(0)

    return run()


CONFIG = [
    f"interface Loopback{i}\ndescription loopback number {i} for the pacing test" for i in range(60)
]


def test_unpaced_blast_overruns_and_windowed_writer_loses_nothing_at_line_rate():
    async def scenario():
        baud = 19200
        router, line, client = await ready_router(baud=baud, time_scale=1.0)
        await command(line, client, "configure terminal", ")#")
        lines = "\n".join(CONFIG).split("\n")
        payload = "".join(x + "\r" for x in lines).encode()

        # an unpaced blast: everything at once while the router works on each line
        line.from_client(payload)
        await until(lambda: len(line._rx) == 0 and not line._buffer, timeout=30)
        assert line.drops > 0
        await command(line, client, "end")

        # the windowed writer: <= buffer bytes unechoed -> no drops, line nearly saturated
        await command(line, client, "configure terminal", ")#")
        drops, bytes_in, bytes_out = line.drops, line.bytes_in, line.bytes_out
        loop = asyncio.get_running_loop()
        started = loop.time()
        await windowed_push(line, client, lines, router.input_buffer_bytes)
        elapsed = loop.time() - started
        assert line.drops == drops
        sent, received = line.bytes_in - bytes_in, line.bytes_out - bytes_out
        wire_seconds = max(sent, received) * 10 / baud
        assert wire_seconds / elapsed >= 0.9, (wire_seconds, elapsed)
        assert router.running.find("interface Loopback19") is not None

    asyncio.run(scenario())


def test_line_paces_output_at_baud():
    async def scenario():
        clock = Clock()
        got = Client()
        line = Line(1, None, clock=clock, baud=9600)
        line.connect(got)
        loop = asyncio.get_running_loop()
        started = loop.time()
        line.write(b"x" * 480)
        await until(lambda: len(got.data) == 480)
        assert loop.time() - started >= 0.45  # 480 bytes at 960 B/s

    asyncio.run(scenario())


def test_faults_silent_slow_drop_after_and_reboot_after_save():
    async def scenario():
        router, line, client = await ready_router()
        router.faults.silent = True
        before = len(client.data)
        line.from_client(b"show version\r")
        await asyncio.sleep(0.1)
        assert len(client.data) == before
        router.faults.silent = False

        router.faults.reboot_after_save = True
        line.from_client(b"write memory\r")
        await until(lambda: client.text.count("Press RETURN") >= 1 and router.phase != "up")
        await until(lambda: router.phase == "press-return")
        router.faults.reboot_after_save = False

        line.faults.drop_after_bytes = 10
        line.disconnect(client)
        second = Client()
        assert line.connect(second)
        line.from_client(b"\r\r\r\r\r\r\r\r\r\r\r\r")
        await until(lambda: second.closed)
        assert line.client is None

    asyncio.run(scenario())


def test_busy_line_fault_and_telnet_negotiation():
    async def scenario():
        lab = Lab(
            {
                "control": "127.0.0.1:0",
                "time_scale": 0.001,
                "console_servers": [
                    {
                        "name": "cs1",
                        "telnet_base": 0,
                        "baud": 0,
                        "lines": {1: "r1", 2: {"router": "r2", "faults": {"busy": True}}},
                    }
                ],
                "routers": [
                    {"name": "r1", "platform": "cisco_iosxe"},
                    {"name": "r2", "platform": "cisco_iosxe"},
                ],
            }
        )
        await lab.start()
        try:
            ports = lab.servers["cs1"].telnet_ports
            reader, writer = await asyncio.open_connection("127.0.0.1", ports[1])
            negotiation = await reader.readexactly(9)
            assert negotiation == bytes([255, 251, 1, 255, 251, 3, 255, 253, 3])
            # client answers DO ECHO / WILL TTYPE; the server refuses TTYPE once
            writer.write(bytes([255, 253, 1, 255, 251, 24]) + b"\r\x00")
            data = await asyncio.wait_for(reader.readuntil(b"[yes/no]: "), 10)
            refusal = bytes([255, 254, 24])  # IAC DONT TTYPE
            if refusal not in data:  # the boot output can be out before our answer is read
                data += await asyncio.wait_for(reader.readuntil(refusal), 5)
            assert data.count(refusal) == 1
            second_reader, second_writer = await asyncio.open_connection("127.0.0.1", ports[1])
            refused = await asyncio.wait_for(second_reader.read(), 5)
            assert b"port in use" in refused
            stuck_reader, stuck_writer = await asyncio.open_connection("127.0.0.1", ports[2])
            assert b"port in use" in await asyncio.wait_for(stuck_reader.read(), 5)
            status = lab.status()["console_servers"][0]["lines"]
            assert status[0]["in_use"] and status[1]["in_use"]
            for w in (writer, second_writer, stuck_writer):
                w.close()
                await w.wait_closed()
        finally:
            await lab.stop()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"routers": [{"name": "r1"}]}, "needs name and platform"),
        ({"routers": [{"name": "r1", "platform": "nokia"}]}, "unknown platform"),
        (
            {"routers": [{"name": "r1", "platform": "cisco_iosxe", "faults": {"melt": 1}}]},
            "unknown fault",
        ),
        ({"console_servers": [{"name": "cs", "lines": {1: "ghost"}}]}, "no router 'ghost'"),
    ],
)
def test_lab_file_errors_name_the_entry(config, message):
    with pytest.raises(LabFileError, match=message):
        Lab(config)


@pytest.mark.parametrize(
    "values",
    [{"explode": True}, {"slow_factor": "abc"}, {"silent": "yes"}, {"drop_after_bytes": -1}],
)
def test_faults_update_rejects_unknown_names_and_bad_values(values):
    faults = Faults()
    with pytest.raises(ValueError):
        faults.update({"busy": True, **values})
    assert faults.busy is False  # nothing applied


def test_telnet_login_and_wrong_password_fault():
    async def scenario():
        lab = Lab(
            {
                "control": "127.0.0.1:0",
                "time_scale": 0.001,
                "console_servers": [
                    {
                        "name": "cs1",
                        "telnet_base": 0,
                        "baud": 0,
                        "telnet_login": True,
                        "username": "ops",
                        "password": "pw",
                        "lines": {1: "r1"},
                    }
                ],
                "routers": [{"name": "r1", "platform": "cisco_iosxe"}],
            }
        )
        await lab.start()
        port = lab.servers["cs1"].telnet_ports[1]

        async def login(password: str) -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.wait_for(reader.readuntil(b"Username: "), 5)
            writer.write(b"ops\r\n")
            await asyncio.wait_for(reader.readuntil(b"Password: "), 5)
            writer.write(password.encode() + b"\r\n")
            await asyncio.sleep(0.05)
            writer.write(b"\r")
            try:
                data = await asyncio.wait_for(reader.read(4096), 5)
            finally:
                writer.close()
                await writer.wait_closed()
            return data

        try:
            assert b"[yes/no]" in await login("pw")
            lab.set_faults({"wrong_password": True}, router="r1")
            assert b"Authentication failed" in await login("pw")
        finally:
            await lab.stop()

    asyncio.run(scenario())


def test_output_while_nobody_is_connected_waits_in_the_port_buffer():
    async def scenario():
        clock = Clock(time_scale=0.001)
        spec = RouterSpec(name="r1", platform="cisco_iosxe", options={"pnp_messages": False})
        router = build_router(spec, clock)
        line = Line(1, router, clock=clock, baud=0)  # the default: the last 256 bytes
        router.power_on()
        await until(lambda: router.state() == "dialog")
        late = Client()
        assert line.connect(late)
        await until(lambda: late.text.endswith("[yes/no]: "))  # the tail of the boot, unasked
        assert "Initializing Hardware" not in late.text
        line.disconnect(late)

        small = Line(2, None, clock=clock, baud=0, hold_bytes=10)
        small.write(b"0123456789abcdef")
        kept = Client()
        small.connect(kept)
        await until(lambda: len(kept.data) == 10)
        assert kept.data == b"6789abcdef"

        # the port's buffer is the console server's memory: on a slow line the held bytes
        # (which crossed the wire when the router said them) do not cross it again
        slow = Line(4, None, clock=clock, baud=300, hold_bytes=256)  # 30 B/s: 8.5 s for 256 B
        slow.write(b"x" * 300)
        waiting = Client()
        slow.connect(waiting)
        await asyncio.sleep(0.2)
        assert waiting.data == b"x" * 256

        deaf = Line(3, None, clock=clock, baud=0, hold_bytes=0)
        deaf.write(b"lost")
        nobody = Client()
        deaf.connect(nobody)
        await asyncio.sleep(0.05)
        assert nobody.data == b""

    asyncio.run(scenario())


def test_running_config_follows_ios_rules():
    async def scenario():
        router, line, client = await ready_router()
        for text in [
            "configure terminal",
            "router ospf 1",
            "passive-interface default",
            "no passive-interface GigabitEthernet0/0/1",
            "router bgp 65000",  # an exact global keyword leaves config-router (no "router-id")
            "neighbor 10.1.1.0 remote-as 65001",
            "interface GigabitEthernet0/0/1",
            "ip address 10.1.1.1 255.255.255.254",
            "description core",
            "ip address 10.1.1.3 255.255.255.254",  # replaces the first
            "interface Loopback9",
            "description temporary",
            "no interface Loopback9",
            "snmp-server user U G v3 auth sha AuthPass12 priv aes 128 PrivPass12",
            "end",
        ]:
            await command(line, client, text, "#")
        shown = router.render_config()
        assert " no passive-interface GigabitEthernet0/0/1" in shown
        assert "router-id" not in shown and "router bgp 65000\n neighbor" in shown
        assert "interface GigabitEthernet0/0/1\n description core\n ip address 10.1.1.3" in shown
        assert "10.1.1.1" not in shown
        assert "Loopback9" not in shown
        assert "snmp-server user" not in shown  # IOS never shows SNMPv3 users
        assert "snmp-server user U" in router.render_config(hidden=True)
        one = await show(line, client, "show running-config interface Gi0/0/1")
        assert "interface GigabitEthernet0/0/1\n description core\n ip address 10.1.1.3" in one
        assert "Loopback" not in one and one.endswith("end")

    asyncio.run(scenario())
