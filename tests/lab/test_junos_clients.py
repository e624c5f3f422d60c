"""The Junos model through the lab's console server and management plane, checked with
clients nobody here wrote: Junos PyEZ (console telnet mode and NETCONF over SSH), netmiko
``juniper_junos_telnet`` and ntc-templates."""

from __future__ import annotations

import socket
import threading
import time

import paramiko
import pytest
from jnpr.junos import Device
from jnpr.junos.exception import CommitError, ConfigLoadError, ConnectAuthError, ConnectError
from jnpr.junos.utils.config import Config
from netmiko import ConnectHandler
from ntc_templates.parse import parse_output

from tests.lab.conftest import lab_config
from tests.lab.test_junos import BOOTSTRAP, ROOT_HASH, netconf_ready

PASSWORD = "Hello world!"  # what ROOT_HASH hashes


def junos(name="j1", **extra):
    # The console server keeps what the router printed while nobody was connected and sends
    # it on connect, so PyEZ sees "login:" at once instead of waiting 10 s + 5 s on a silent
    # line (CONSOLE-FACTS 2.2).
    options = extra.pop("options", {})
    return {"name": name, "platform": "juniper_junos", "options": options, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def console(lab, router="j1") -> Device:
    dev = Device(
        host="127.0.0.1", port=lab.telnet_port(router), mode="telnet", user="root", passwd=""
    )
    dev.open()
    return dev


def test_pyez_console_day0_load_diff_check_errors_and_commit(running_lab):
    lab = running_lab(lab_config([junos()]))
    dev = console(lab)
    router = lab.router("j1")
    cu = Config(dev)
    cu.lock()
    cu.load("set system host-name j1\nset system services ssh", format="set")
    assert "+  host-name j1;" in cu.diff()
    with pytest.raises(CommitError, match="Missing mandatory statement: 'root-authentication'"):
        cu.commit_check()
    with pytest.raises(CommitError, match="commit failed: \\(missing mandatory statements\\)"):
        cu.commit(comment="day0")
    with pytest.raises(ConfigLoadError, match="syntax error") as err:
        cu.load("set system host-name j1\nset sytem services netconf ssh", format="set")
    assert err.value.rpc_error["bad_element"] == "sytem"
    cu.load(f'set system root-authentication encrypted-password "{ROOT_HASH}"', format="set")
    assert cu.commit_check() is True
    assert cu.commit(comment="day0") is True
    cu.unlock()
    assert router.hostname == "j1"
    assert router.history[0].comment == "day0" and router.history[0].via == "junoscript"
    assert "Hostname: j1" in dev.cli("show version", warning=False)
    dev.close()
    # close-session returns to the shell prompt; PyEZ's logout then types "exit" there
    assert router.state() == "login"


def test_pyez_console_commit_confirmed_rolls_back_when_not_confirmed(running_lab):
    lab = running_lab(lab_config([junos()]))
    router = lab.router("j1")
    dev = console(lab)
    cu = Config(dev)
    cu.load(BOOTSTRAP, format="set")
    cu.commit()
    cu.load("set snmp location lab", format="set")
    assert cu.commit(confirm=1) is True
    assert router.committed.find("snmp") is not None
    time.sleep(1.0)  # one minute of router time at time_scale 0.01
    assert router.committed.find("snmp") is None
    assert router.history[0].comment == "rollback"
    # Junos writes the rollback broadcast on the console even in XML mode; PyEZ's next read
    # cannot parse it (a driver must leave XML mode, or the console, before it times out).
    with pytest.warns(RuntimeWarning, match="unknown exception"):
        with pytest.raises(Exception):  # noqa: B017 - lxml/ncclient parse errors vary
            cu.diff()
    dev.close(skip_logout=True)


def test_pyez_netconf_over_ssh_after_bootstrap(running_lab):
    port = free_port()
    boot = netconf_ready("10.9.0.5")
    lab = running_lab(
        lab_config(
            [junos(startup_config=boot)],
            mgmt_map={"10.9.0.5": f"127.0.0.1:{port}"},
        )
    )
    router = lab.router("j1")
    for _ in range(50):
        if lab.call(lab.lab.mgmt.endpoints, router):
            break
        time.sleep(0.02)
    with pytest.raises(ConnectAuthError):
        Device(host="127.0.0.1", port=port, user="admin", passwd="wrong").open()
    dev = Device(host="127.0.0.1", port=port, user="admin", passwd=PASSWORD)
    dev.open()
    dev.facts_refresh(exception_on_failure=True)  # every fact RPC PyEZ sends is answered
    assert (dev.facts["personality"], dev.facts["current_re"]) == ("MX", ["master", "re0"])
    assert (dev.facts["hostname"], dev.facts["model"], dev.facts["version"]) == (
        "j1",
        "VMX",
        "21.4R3-S3.4",
    )
    assert dev.facts["serialnumber"] == router.serial
    cu = Config(dev)
    cu.lock()
    cu.load(
        "interfaces { ge-0/0/0 { description uplink; unit 0 { family inet {"
        " address 10.0.0.1/31; } } } }",
        format="text",
        merge=True,
    )
    assert "+  ge-0/0/0 {" in cu.diff()
    assert cu.commit(confirm=1) is True
    assert cu.commit() is True  # confirms: no rollback
    with pytest.raises(ConfigLoadError):
        cu.load("set interfaces ge-0/0/1 unit 0 family inet address 10.0.0.300/31", format="set")
    cu.rollback(0)
    cu.unlock()
    with Config(dev, mode="private") as private:
        private.load("set snmp location lab", format="set")
        assert router.candidate.find("snmp") is None  # private until committed
        private.commit()
    assert router.committed.find("snmp").value("location") == "lab"
    terse = dev.cli("show interfaces terse", warning=False)
    assert "ge-0/0/0.0              up    up   inet     10.0.0.1/31" in terse
    terse = dev.rpc.get_interface_information(terse=True, interface_name="ge-0/0/0")
    assert terse.findtext(".//logical-interface/address-family/interface-address/ifa-local") == (
        "10.0.0.1/31"
    )
    got = dev.rpc.get_config(filter_xml="<system><host-name/></system>")
    assert got.findtext(".//host-name") == "j1"
    dev.close()
    time.sleep(1.0)
    assert router.confirm_deadline is None
    assert router.committed.get(("interfaces",), ("ge-0/0/0",)) is not None


def test_no_netconf_without_the_service(running_lab):
    port = free_port()
    boot = BOOTSTRAP.replace("set system services netconf ssh\n", "")
    lab = running_lab(
        lab_config(
            [junos(startup_config=boot)],
            mgmt_map={"10.9.0.5": f"127.0.0.1:{port}"},
        )
    )
    router = lab.router("j1")
    assert router.management().netconf is False
    time.sleep(0.2)
    with pytest.raises(ConnectError):
        Device(host="127.0.0.1", port=port, user="admin", passwd=PASSWORD).open()
    # ncclient leaves its SSH transport open when the subsystem is refused: close it here
    for thread in threading.enumerate():
        if isinstance(thread, paramiko.Transport):
            thread.close()
    time.sleep(0.1)


def test_netmiko_juniper_telnet_push_commit_and_read_back(running_lab):
    # netmiko's telnet login waits for a "#" or ">" prompt: the FreeBSD-11 style root shell
    # ("root@:~ # ") works, the csh one ("root@:RE:0% ") makes it give up after 20 loops.
    lab = running_lab(lab_config([junos(options={"shell": "sh"})]))
    conn = ConnectHandler(
        device_type="juniper_junos_telnet",
        host="127.0.0.1",
        port=lab.telnet_port("j1"),
        username="root",
        password="",
    )
    assert conn.find_prompt() == "root>"
    conn.send_config_set(["set system host-name j1", "set system services ssh"])
    with pytest.raises(ValueError, match="Missing mandatory statement: 'root-authentication'"):
        conn.commit()
    conn.send_config_set(BOOTSTRAP.splitlines(), exit_config_mode=False)
    out = conn.commit(confirm=True, confirm_delay=5)
    assert "commit confirmed will be automatically rolled back in 5 minutes" in out
    conn.commit()
    conn.exit_config_mode()
    shown = conn.send_command("show configuration | display set")
    assert "set system host-name r1" in shown
    assert 'set system root-authentication encrypted-password "$6$saltstring$' in shown
    version = conn.send_command("show version")
    parsed = parse_output(platform="juniper_junos", command="show version", data=version)
    assert parsed[0]["hostname"] == "r1" and parsed[0]["model"] == "vmx"
    assert parsed[0]["junos_version"] == "21.4R3-S3.4"
    conn.send_config_set(
        ["set interfaces ge-0/0/0 description uplink",
         "set interfaces ge-0/0/0 unit 0 family inet address 10.0.0.1/31"],
        exit_config_mode=False,
    )  # fmt: skip
    conn.commit(and_quit=True)
    detail = conn.send_command("show interfaces ge-0/0/0")
    rows = parse_output(platform="juniper_junos", command="show interfaces ge-0/0/0", data=detail)
    assert rows[0]["interface"] == "ge-0/0/0" and rows[0]["description"] == "uplink"
    assert rows[0]["link_status"] == "Up" and rows[0]["mtu"] == "1514"
    assert rows[1]["interface"] == "ge-0/0/0.0" and rows[1]["local"] == "10.0.0.1"
    assert rows[1]["destination"] == "10.0.0.0/31"
    conn.disconnect()
    time.sleep(0.2)


def test_ssh_cli_on_the_management_address_shares_the_configuration(running_lab):
    port = free_port()
    lab = running_lab(
        lab_config(
            [junos(startup_config=BOOTSTRAP)],
            mgmt_map={"10.9.0.5": f"127.0.0.1:{port}"},
        )
    )
    router = lab.router("j1")
    time.sleep(0.2)
    conn = ConnectHandler(
        device_type="juniper_junos",
        host="127.0.0.1",
        port=port,
        username="admin",
        password=PASSWORD,
    )
    assert conn.find_prompt() == "admin@r1>"
    conn.send_config_set(["set snmp location lab"], exit_config_mode=False)
    assert "commit complete" in conn.commit(and_quit=True)
    assert router.committed.find("snmp").value("location") == "lab"
    shown = conn.send_command("show configuration snmp | display set")
    assert shown.strip() == "set snmp location lab"
    conn.disconnect()
    time.sleep(0.2)  # let the lab see the channel close before it stops
