"""The lab from a site's design, the control endpoint with ``turnup lab status/fault``, and
the management-address map."""

from __future__ import annotations

import io
import time

import paramiko
import pytest
from django.core.management import call_command

from tests.factories import dcim_console_site
from tests.lab.conftest import free_port, lab_config
from turnup.dcim import services
from turnup.lab.design import site_lab_config
from turnup.lab.lab import Lab
from turnup.lab.mgmt import AddressMap

STARTUP_WITH_SSH = """\
hostname {name}
ip domain name lab.example
username ops privilege 15 secret 0 Ops1234567
interface GigabitEthernet0/0/0
 ip address {address} 255.255.255.0
line vty 0 4
 login local
 transport input ssh
"""


def cable(a, a_port: str, b, b_port: str) -> None:
    services.cable_create(
        a_end=a.interfaces.get(name=a_port), b_end=b.interfaces.get(name=b_port), status="planned"
    )


@pytest.mark.django_db
def test_site_design_becomes_a_lab_wired_as_cabled():
    site, server, routers = dcim_console_site(routers=2)
    rtr1, rtr2 = routers
    cable(rtr2, "Gi0/0/2", rtr1, "Gi0/0/1")
    cable(rtr1, "Gi0/0/3", server, "eth0")  # the console server is no lab router
    config = site_lab_config(site=site)
    (cs,) = config["console_servers"]
    assert cs["name"] == "cs1"
    assert cs["host"] == "127.0.0.1"
    assert cs["lines"][1]["router"] == "rtr1"
    assert cs["lines"][2]["router"] == "rtr2"
    assert cs["lines"][1]["telnet_port"] == 2001
    assert [r["platform"] for r in config["routers"]] == ["cisco_iosxe", "cisco_iosxe"]
    assert config["links"] == [{"a": "rtr2 Gi0/0/2", "b": "rtr1 Gi0/0/1"}]
    lab = Lab(config)  # the dict is a valid lab file
    assert "GigabitEthernet0/0/3" in lab.routers["rtr1"].interface_names
    far = lab.routers["rtr1"].far_end("GigabitEthernet0/0/1")
    assert (far.router.name, far.interface) == ("rtr2", "GigabitEthernet0/0/2")
    assert lab.routers["rtr1"].far_end("GigabitEthernet0/0/3") is None


@pytest.mark.django_db
def test_site_lab_config_costs_the_same_queries_for_more_routers():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small, _, (a, b) = dcim_console_site(routers=2)
    cable(a, "Gi0/0/1", b, "Gi0/0/1")
    with CaptureQueriesContext(connection) as two:
        site_lab_config(site=small)
    big, _, routers = dcim_console_site(routers=6)
    for left, right in zip(routers[::2], routers[1::2], strict=True):
        cable(left, "Gi0/0/1", right, "Gi0/0/1")
        cable(left, "Gi0/0/2", right, "Gi0/0/2")
    with CaptureQueriesContext(connection) as six:
        config = site_lab_config(site=big)
    assert len(config["routers"]) == 6
    assert len(config["links"]) == 6
    assert len(six.captured_queries) == len(two.captured_queries)


def test_address_map_forms():
    mapping = AddressMap(
        {
            "10.0.0.5": "127.0.0.1:22005",
            "10.1.0.0/24": "127.0.0.1:23000",
            "10.2.0.0/24": "127.2.0.0/24",
        },
        ssh_port=2222,
    )
    assert mapping.resolve("10.0.0.5") == [("127.0.0.1", 22005)]
    assert mapping.resolve("10.1.0.9") == [("127.0.0.1", 23009)]
    assert mapping.resolve("10.2.0.9") == [("127.2.0.9", 2222)]
    assert mapping.resolve("127.0.0.44") == [("127.0.0.44", 2222)]
    assert mapping.resolve("192.0.2.1") == []
    assert AddressMap({"10.0.0.0/8": "127.0.0.1:60000"}).resolve("10.0.255.1") == []


def test_loopback_management_address_answers_and_unmapped_one_does_not(running_lab):
    port = free_port()
    routers = [
        {
            "name": "r1",
            "platform": "cisco_iosxe",
            "startup_config": STARTUP_WITH_SSH.format(name="R1", address="127.0.0.77")
            + "interface Loopback0\n ip address 127.0.0.78 255.255.255.255\n",
            "options": {"pnp_messages": False, "boot_seconds": 1},
        },
        {
            "name": "r2",
            "platform": "cisco_iosxe",
            "startup_config": STARTUP_WITH_SSH.format(name="R2", address="192.0.2.2"),
            "options": {"pnp_messages": False, "boot_seconds": 1},
        },
    ]
    lab = running_lab(lab_config(routers, mgmt_ssh_port=port))
    deadline = time.time() + 10
    while not lab.call(lab.lab.mgmt.endpoints, lab.router("r1")) and time.time() < deadline:
        time.sleep(0.05)
    endpoints = lab.call(lab.lab.mgmt.endpoints, lab.router("r1"))
    assert endpoints == [f"127.0.0.77:{port}", f"127.0.0.78:{port}"]
    assert lab.call(lab.lab.mgmt.endpoints, lab.router("r2")) == []
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.77", port, "ops", "Ops1234567", look_for_keys=False, allow_agent=False)
    chan = client.invoke_shell()
    chan.send(b"show running-config | include hostname\r")
    received = b""
    while b"hostname R1" not in received and time.time() < deadline:
        received += chan.recv(65536)
    assert b"R1#" in received
    client.close()


def test_status_and_fault_commands_talk_to_a_running_lab(running_lab):
    config = lab_config(
        [{"name": "r1", "platform": "cisco_iosxe"}, {"name": "r2", "platform": "cisco_iosxe"}]
    )
    lab = running_lab(config)
    control = lab.lab.control_address
    out = io.StringIO()
    call_command("lab", "status", "--control", control, stdout=out)
    text = out.getvalue()
    assert "r1" in text and "r2" in text and "cisco_iosxe" in text
    # each line's telnet and SSH ports, as a client would dial them
    row = next(line for line in text.splitlines() if " r1 " in line).split()
    assert row[2:4] == [str(lab.telnet_port("r1")), str(lab.ssh_port())], row
    call_command(
        "lab", "fault", "--control", control, "--router", "r1", "silent=true", stdout=io.StringIO()
    )
    call_command(
        "lab",
        "fault",
        "--control",
        control,
        "--console-server",
        "cs1",
        "--line",
        "2",
        "drop_after_bytes=100",
        "busy=yes",
        stdout=io.StringIO(),
    )
    assert lab.router("r1").faults.silent is True
    assert lab.line("r2").faults.drop_after_bytes == 100
    assert lab.line("r2").in_use
    out = io.StringIO()
    call_command("lab", "status", "--control", control, "--json", stdout=out)
    assert '"busy": true' in out.getvalue()


def test_lab_start_command_runs_a_lab_file_until_sigterm(tmp_path):
    import json
    import signal
    import subprocess
    import sys
    import urllib.request

    import yaml

    from tests.helpers import ROOT, turnup_env

    lab_file = tmp_path / "lab.yaml"
    lab_file.write_text(yaml.safe_dump(lab_config([{"name": "r1", "platform": "cisco_iosxe"}])))
    process = subprocess.Popen(
        [sys.executable, "-m", "turnup.cli", "lab", "start", "--file", str(lab_file)],
        env=turnup_env(tmp_path),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("lab test: control http://"), first
        url = first.split()[-1]
        assert "line   1 r1" in process.stdout.readline() + process.stdout.readline()
        with urllib.request.urlopen(url, timeout=10) as response:
            status = json.loads(response.read())
        assert status["console_servers"][0]["lines"][0]["router"] == "r1"
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "lab stopped" in out


@pytest.mark.django_db
def test_lab_config_command_prints_a_sites_lab_file():
    import yaml

    site, _, _ = dcim_console_site(routers=1)
    out = io.StringIO()
    call_command("lab", "config", "--site", site.name, stdout=out)
    config = yaml.safe_load(out.getvalue())
    assert config["console_servers"][0]["lines"][1]["router"] == "rtr1"
