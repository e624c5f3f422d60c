"""The IOS-XE model and the console server, checked with clients nobody here wrote:
netmiko (reverse telnet, SSH terminal server + redispatch, management SSH), ntc-templates."""

from __future__ import annotations

import time
import types

import netmiko.cisco_base_connection
import paramiko
import pytest
from netmiko import ConnectHandler, redispatch
from netmiko.exceptions import NetmikoAuthenticationException
from ntc_templates.parse import parse_output

from tests.lab.conftest import free_port, lab_config

# "no logging console" first: otherwise %LINK-3-UPDOWN lands in the middle of an echo and
# netmiko's echo check fails, as it does on a real console (netmiko issue #3696).
BOOTSTRAP = [
    "no logging console",
    "hostname R1",
    "ip domain name lab.example",
    "crypto key generate rsa modulus 2048",
    "username admin privilege 15 secret 0 Admin12345",
    "vrf definition MGMT",
    " address-family ipv4",
    " exit-address-family",
    "interface GigabitEthernet0/0/1",
    " description management",
    " vrf forwarding MGMT",
    " ip address 10.9.0.5 255.255.255.0",
    " no shutdown",
    "ip route vrf MGMT 0.0.0.0 0.0.0.0 10.9.0.1",
    "line vty 0 4",
    " login local",
    " transport input ssh",
]


@pytest.fixture
def fast_netmiko_login(monkeypatch):
    """netmiko's Cisco telnet login sleeps ~1 s per loop (43 s before it gives up); run its
    unchanged logic with its sleeps divided by 10 so the suite stays fast."""
    real = time.sleep
    fake = types.SimpleNamespace(sleep=lambda seconds: real(seconds / 10), time=time.time)
    monkeypatch.setattr(netmiko.cisco_base_connection, "time", fake)


def ios(name="r1", **options):
    return {
        "name": name,
        "platform": "cisco_iosxe",
        "options": {"pnp_messages": False, "boot_seconds": 1, **options},
    }


def telnet(lab, router="r1"):
    return ConnectHandler(
        device_type="cisco_ios_telnet",
        host="127.0.0.1",
        port=lab.telnet_port(router),
        username="",
        password="",
        secret="",
        timeout=20,
    )


def test_netmiko_telnet_pushes_config_and_reads_it_back(running_lab, fast_netmiko_login):
    lab = running_lab(lab_config([ios(autoinstall_prompt=True)], baud=115200))
    conn = telnet(lab)
    assert conn.find_prompt() == "Router>"
    conn.enable()
    assert conn.find_prompt() == "Router#"
    output = conn.send_config_set(BOOTSTRAP, error_pattern=r"% Invalid")
    assert "R1(config-if)#" in output
    conn.set_base_prompt()
    assert "[OK]" in conn.save_config()
    running = conn.send_command("show running-config")
    assert "hostname R1" in running
    assert " ip address 10.9.0.5 255.255.255.0" in running
    assert "username admin privilege 15 secret 9 $9$" in running
    assert "Admin12345" not in running
    startup = conn.send_command("show startup-config")
    assert "hostname R1" in startup
    brief = parse_output(
        "cisco_ios", "show ip interface brief", conn.send_command("show ip interface brief")
    )
    row = next(r for r in brief if r["interface"] == "GigabitEthernet0/0/1")
    assert (row["ip_address"], row["status"], row["proto"]) == ("10.9.0.5", "up", "up")
    version = parse_output("cisco_ios", "show version", conn.send_command("show version"))[0]
    assert version["hostname"] == "R1"
    assert version["version"] == "17.09.04a"
    assert version["hardware"] == ["C8300-1N1S-6T"]
    conn.disconnect()
    # netmiko waits for every echo: natural flow control, nothing overran the input buffer
    assert lab.line("r1").drops == 0


def test_invalid_config_line_is_caught_with_caret(running_lab, fast_netmiko_login):
    lab = running_lab(lab_config([ios()], baud=115200))
    conn = telnet(lab)
    conn.enable()
    with pytest.raises(netmiko.exceptions.ConfigInvalidException):
        conn.send_config_set(
            ["hostname R1", "interface GigabitEthernet0/0/0", " ip adress 1.1.1.1"],
            error_pattern=r"% Invalid",
        )
    conn.disconnect()


def test_a_global_command_typed_under_a_line_leaves_the_line_mode(running_lab, fast_netmiko_login):
    lab = running_lab(lab_config([ios()], baud=115200))
    conn = telnet(lab)
    conn.enable()
    output = conn.send_config_set(
        ["line vty 0 4", " logging synchronous", " logging console warnings"],
        error_pattern=r"% Invalid",
    )
    assert "Router(config)#" in output.split("logging console warnings")[-1]
    running = conn.send_command("show running-config")
    assert "logging console warnings" in running.splitlines()  # global, as IOS takes it
    line_vty = running.split("line vty 0 4", 1)[1].split("!", 1)[0]
    assert "logging synchronous" in line_vty and "logging console" not in line_vty
    conn.disconnect()


def test_stock_netmiko_fails_on_forced_enable_secret_prompts(running_lab, fast_netmiko_login):
    lab = running_lab(lab_config([ios(enable_secret_prompt=True)], baud=115200))
    with pytest.raises(NetmikoAuthenticationException):
        telnet(lab)
    # the router is still waiting for its secret: that is what a real 17.x box does
    assert lab.call(lab.router("r1").state) in ("secret", "confirm")


def test_terminal_server_ssh_then_redispatch(running_lab):
    lab = running_lab(lab_config([ios(), ios("r2")], baud=115200))
    conn = ConnectHandler(
        device_type="terminal_server",
        host="127.0.0.1",
        port=lab.ssh_port(),
        username="admin",
        password="cs-secret",
    )
    conn.write_channel("connect 2\r")
    deadline = time.time() + 20
    output = ""
    while time.time() < deadline and "Router>" not in output:
        conn.write_channel("\r")
        time.sleep(0.3)
        output += conn.read_channel()
        if "[yes/no]" in output:
            conn.write_channel("no\r")
            output = ""
    assert "Router>" in output
    redispatch(conn, device_type="cisco_ios")
    assert conn.find_prompt() == "Router>"
    assert lab.line("r2").client is not None and lab.line("r1").client is None
    conn.disconnect()


def _ssh_shell(port: int, username: str, password: str = "cs-secret"):
    """An SSH shell on the lab's console server (the client is closed if the login fails)."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        client.connect(
            "127.0.0.1", port, username, password, look_for_keys=False, allow_agent=False
        )
        return client, client.invoke_shell()
    except Exception:
        client.close()
        raise


def test_opengear_style_user_lands_on_the_line_and_busy_line_is_refused(running_lab):
    lab = running_lab(lab_config([ios()], baud=115200))
    first, chan = _ssh_shell(lab.ssh_port(), "admin:port1")
    chan.send(b"\r")
    time.sleep(0.5)
    assert b"[yes/no]" in chan.recv(65536)

    second, chan2 = _ssh_shell(lab.ssh_port(), "admin:1")
    time.sleep(0.5)
    assert b"port in use" in chan2.recv(65536)
    second.close()

    with pytest.raises(paramiko.AuthenticationException):
        _ssh_shell(lab.ssh_port(), "admin:1", "wrong")
    first.close()


def test_each_line_on_its_own_ssh_port_as_opengears_3000_plus_n(running_lab):
    """A line with its own ``ssh_port`` (the design's per-line TCP port with SSH access) is
    reached there with a plain user name; the port reaches no other line."""
    ports = {1: free_port(), 2: free_port()}
    config = lab_config([ios(), ios("r2")], baud=115200)
    config["console_servers"][0]["lines"] = {
        1: {"router": "r1", "ssh_port": ports[1]},
        2: {"router": "r2", "ssh_port": ports[2]},
    }
    lab = running_lab(config)
    client, chan = _ssh_shell(ports[2], "admin")
    deadline = time.time() + 10
    while lab.line("r2").client is None and time.time() < deadline:
        time.sleep(0.05)
    assert lab.line("r2").client is not None and lab.line("r1").client is None
    chan.send(b"\r")
    received = b""
    while b"[yes/no]" not in received and time.time() < deadline:
        received += chan.recv(65536)
    assert b"[yes/no]" in received
    client.close()
    with pytest.raises(paramiko.AuthenticationException):
        _ssh_shell(ports[1], "admin:2")  # line 2 is not behind line 1's port
    status = lab.call(lab.lab.status)["console_servers"][0]["lines"]
    assert [entry["ssh_port"] for entry in status] == [ports[1], ports[2]]


def test_management_ssh_answers_after_bootstrap_only(running_lab, fast_netmiko_login):
    import socket

    base = free_port()
    lab = running_lab(lab_config([ios()], baud=115200, mgmt_map={"10.9.0.5": f"127.0.0.1:{base}"}))
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", base), timeout=1).close()
    conn = telnet(lab)
    conn.enable()
    conn.send_config_set(BOOTSTRAP)
    conn.disconnect()
    deadline = time.time() + 10
    while time.time() < deadline and not lab.call(lab.lab.mgmt.endpoints, lab.router("r1")):
        time.sleep(0.1)
    mgmt = ConnectHandler(
        device_type="cisco_ios",
        host="127.0.0.1",
        port=base,
        username="admin",
        password="Admin12345",
    )
    assert mgmt.find_prompt() == "R1#"
    assert "10.9.0.5" in mgmt.send_command("show ip interface brief")
    mgmt.send_config_set(["interface Loopback0", " ip address 192.0.2.1 255.255.255.255"])
    assert "interface Loopback0" in mgmt.send_command("show running-config | section Loopback")
    mgmt.disconnect()
    with pytest.raises(NetmikoAuthenticationException):
        ConnectHandler(
            device_type="cisco_ios",
            host="127.0.0.1",
            port=base,
            username="admin",
            password="wrong",
        )


def test_scrapli_telnet_through_a_console_server_with_a_banner(running_lab):
    from scrapli import AuthOptions, Cli, LookupKeyValue, TransportTelnetOptions

    config = lab_config(
        [ios(), {**ios("r2"), "startup_config": "hostname S1\nenable secret 0 Enable12345\n"}],
        baud=115200,
    )
    # scrapli's telnet open() waits for a first non-IAC byte: a banner on connect gives it one
    config["console_servers"][0]["banner"] = "\r\ncs1: connected\r\n"
    # and its prompt detection reads whatever arrives first: boot text held in the port's
    # buffer is sometimes taken for the prompt, so this console server holds none
    config["console_servers"][0]["hold_output_bytes"] = 0
    lab = running_lab(config)
    deadline = time.time() + 10
    while lab.call(lab.router("r2").state) != "press-return" and time.time() < deadline:
        time.sleep(0.05)
    cli = Cli(
        "127.0.0.1",
        port=lab.telnet_port("r2"),
        definition_file_or_name="cisco_iosxe",
        auth_options=AuthOptions(
            username="",
            password="",
            bypass_in_session_auth=True,
            lookups=[LookupKeyValue("enable", "Enable12345")],
        ),
        transport_options=TransportTelnetOptions(),
    )
    cli.open()
    try:
        assert cli.get_prompt().result == "S1#"
        cli.send_inputs(
            ["interface Loopback7", "ip address 192.0.2.7 255.255.255.255"],
            requested_mode="configuration",
        )
        shown = cli.send_input(
            "show running-config | section Loopback7", requested_mode="privileged_exec"
        ).result
        assert " ip address 192.0.2.7 255.255.255.255" in shown
    finally:
        cli.close()
