"""Cables between lab routers (the lab file's ``links``): a cabled port's line protocol needs
both ends, and LLDP shows the far end — read with clients nobody here wrote (netmiko and
ntc-templates on IOS-XE, PyEZ over NETCONF on Junos)."""

from __future__ import annotations

import time

import pytest
from jnpr.junos import Device
from jnpr.junos.op.lldp import LLDPNeighborTable
from jnpr.junos.utils.config import Config
from netmiko import ConnectHandler
from ntc_templates.parse import parse_output

from tests.lab.conftest import free_port, lab_config
from tests.lab.test_junos import netconf_ready
from tests.lab.test_junos_clients import PASSWORD
from turnup.lab.junos import op_command
from turnup.lab.lab import Lab, LabFileError

IOS_STARTUP = """\
hostname {hostname}
ip domain name lab.example
username ops privilege 15 secret 0 Ops1234567
interface GigabitEthernet0
 ip address {address} 255.255.255.0
line vty 0 4
 login local
 transport input ssh
"""
JUNOS_NETCONF = netconf_ready("10.9.0.9", '    ge-0/0/1 { description "to R1"; }\n')


def commit_set(dev, statements: str) -> None:
    """Load ``statements`` (set/delete lines) into j1's candidate and commit them."""
    with Config(dev, mode="exclusive") as cu:
        cu.load(statements, format="set")
        cu.commit()


def ios(name: str, startup: str = "", **options) -> dict:
    return {
        "name": name,
        "platform": "cisco_iosxe",
        "startup_config": startup or None,
        "options": {"pnp_messages": False, "boot_seconds": 1, **options},
    }


def ios_with_ssh(name: str, hostname: str, address: str, extra: str) -> dict:
    return ios(name, IOS_STARTUP.format(hostname=hostname, address=address) + extra)


def link(a: str, b: str) -> dict:
    return {"a": a, "b": b}


def wait_until(predicate, timeout: float = 10) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def wait_for_management(lab, *names: str) -> None:
    wait_until(lambda: all(lab.call(lab.lab.mgmt.endpoints, lab.router(n)) for n in names))


def brief(text: str) -> dict[str, tuple[str, str]]:
    rows = parse_output("cisco_ios", "show ip interface brief", text)
    return {row["interface"]: (row["status"], row["proto"]) for row in rows}


# -- the lab file ------------------------------------------------------------------------------
TWO_ROUTERS = [
    {"name": "r1", "platform": "cisco_iosxe"},
    {"name": "j1", "platform": "juniper_junos"},
]


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ({"a": "r1 Gi0/0/1", "b": "j1 ge-0/0/1"}, r"links: must be a list"),
        (["r1 Gi0/0/1 j1 ge-0/0/1"], r"links\[0\]: needs exactly a and b"),
        ([{"a": "r1 Gi0/0/1"}], r"links\[0\]: needs exactly a and b"),
        ([link("r1 Gi0/0/1", "r9 Gi0/0/1")], r"links\[0\]: no router 'r9'"),
        ([link("r1", "j1 ge-0/0/1")], r"links\[0\]: 'r1' is not '<router> <interface>'"),
        ([link("r1 Gi0/0/9", "j1 ge-0/0/1")], r"links\[0\]: r1 has no interface 'Gi0/0/9'"),
        ([link("r1 Gi0/0/1", "j1 lo0")], r"links\[0\]: j1 has no interface 'lo0'"),
        (
            [link("r1 Gi0/0/1", "j1 ge-0/0/1"), link("j1 ge-0/0/2", "r1 GigabitEthernet0/0/1")],
            r"links\[1\]: r1 GigabitEthernet0/0/1 is already in links\[0\]",
        ),
        (
            [link("j1 ge-0/0/1", "j1 ge-0/0/1")],
            r"links\[0\]: j1 ge-0/0/1 is already in links\[0\]",
        ),
    ],
)
def test_bad_links_are_refused_naming_the_entry(links, message):
    with pytest.raises(LabFileError, match=message):
        Lab({"routers": TWO_ROUTERS, "links": links})


def test_each_router_finds_the_far_end_of_its_cabled_ports():
    lab = Lab({"routers": TWO_ROUTERS, "links": [link("r1 gi0/0/1", "j1 ge-0/0/3")]})
    r1, j1 = lab.routers["r1"], lab.routers["j1"]
    far = r1.far_end("GigabitEthernet0/0/1")
    assert (far.router, far.interface) == (j1, "ge-0/0/3")
    back = j1.far_end("ge-0/0/3")
    assert (back.router, back.interface) == (r1, "GigabitEthernet0/0/1")
    assert r1.far_end("GigabitEthernet0/0/2") is None


class _StoppedLoop:
    """A loop whose clock a test sets (the routers only read the time)."""

    now = 0.0

    def time(self) -> float:
        return self.now


def test_a_router_hears_the_far_end_at_its_next_lldp_advertisement():
    timers = {"lldp_timer": 30, "lldp_reinit": 2}
    lab = Lab(
        {
            "routers": [ios("r1", **timers), ios("r2", **timers), ios("r3")],
            "links": [link("r1 Gi0/0/1", "r2 Gi0/0/1"), link("r1 Gi0/0/2", "r3 Gi0/0/1")],
        }
    )
    loop = lab.clock._loop = _StoppedLoop()
    r1, r2, r3 = (lab.routers[name] for name in ("r1", "r2", "r3"))
    r1.lldp_since, r2.lldp_since, r3.lldp_since = 0.0, 10.0, 10.0
    # r2 started after r1's first advertisement (at 2 s): it hears r1's next one, at 32 s
    loop.now = 31.9
    assert not r2.lldp_heard(r1)
    loop.now = 32.0
    assert r2.lldp_heard(r1)
    # r1 listened before r2's first advertisement (10 + 2 s): it hears that one
    loop.now = 11.9
    assert not r1.lldp_heard(r2)
    loop.now = 12.0
    assert r1.lldp_heard(r2)
    # a router whose LLDP has no timer (the lab's default) is heard at once
    assert r1.lldp_heard(r3)
    r2.lldp_since = None  # LLDP off at the far end
    assert not r1.lldp_heard(r2)


# -- link state --------------------------------------------------------------------------------
def test_a_cabled_port_is_down_while_the_far_router_has_not_booted(running_lab):
    r1 = ios(
        "r1",
        "hostname R1\nlldp run\n"
        "interface GigabitEthernet0/0/1\n ip address 192.0.2.1 255.255.255.252\n"
        "interface GigabitEthernet0/0/2\n ip address 192.0.2.5 255.255.255.252\n"
        "interface GigabitEthernet0/0/3\n",
    )
    never = 10**6  # router seconds: it stays "booting" for the whole test
    config = lab_config(
        [
            r1,
            ios(
                "r2", "hostname R2\nlldp run\ninterface GigabitEthernet0/0/1\n", boot_seconds=never
            ),
            {"name": "j1", "platform": "juniper_junos", "options": {"boot_seconds": never}},
        ],
        links=[link("r1 Gi0/0/1", "r2 Gi0/0/1"), link("r1 Gi0/0/3", "j1 ge-0/0/1")],
    )
    lab = running_lab(config)
    router = lab.router("r1")
    wait_until(lambda: lab.call(router.state) == "press-return")
    states = brief(lab.call(router.show_ip_interface_brief))
    assert states["GigabitEthernet0/0/1"] == ("up", "down")  # r2 is booting
    assert states["GigabitEthernet0/0/3"] == ("up", "down")  # so is j1
    assert states["GigabitEthernet0/0/2"] == ("up", "up")  # on no cable: as ever
    assert states["GigabitEthernet0/0/0"] == ("administratively down", "down")
    routes = lab.call(router.show_ip_route)
    assert "192.0.2.5/32 is directly connected" in routes
    assert "192.0.2.1/32" not in routes  # no connected route over a port that is down
    assert "Total entries displayed: 0" in lab.call(router.show_lldp_neighbors_detail)


def test_ios_shutdown_and_lldp_seen_from_the_other_router(running_lab):
    ports = free_port(), free_port()
    r1 = ios_with_ssh(
        "r1",
        "R1",
        "10.9.0.1",
        "lldp run\ninterface GigabitEthernet0/0/1\n description to r2\n"
        "interface GigabitEthernet0/0/2\n",
    )
    # a System Name longer than the 20 characters the summary's Device ID column keeps
    r2 = ios_with_ssh(
        "r2", "R2-core-router-42", "10.9.0.2", "lldp run\ninterface GigabitEthernet0/0/1\n"
    )
    config = lab_config(
        [r1, r2],
        mgmt_map={"10.9.0.1": f"127.0.0.1:{ports[0]}", "10.9.0.2": f"127.0.0.1:{ports[1]}"},
        links=[link("r1 GigabitEthernet0/0/1", "r2 Gi0/0/1")],
    )
    lab = running_lab(config)
    wait_for_management(lab, "r1", "r2")
    one, two = (
        ConnectHandler(
            device_type="cisco_ios",
            host="127.0.0.1",
            port=port,
            username="ops",
            password="Ops1234567",
        )
        for port in ports
    )
    try:
        states = brief(one.send_command("show ip interface brief"))
        assert states["GigabitEthernet0/0/1"] == ("up", "up")
        assert states["GigabitEthernet0/0/2"] == ("up", "up")
        (seen,) = parse_output(
            "cisco_ios",
            "show lldp neighbors detail",
            one.send_command("show lldp neighbors detail"),
        )
        assert seen["local_interface"] == "Gi0/0/1"
        assert seen["neighbor_name"] == "R2-core-router-42.lab.example"
        assert seen["neighbor_port_id"] == "Gi0/0/1"
        assert seen["neighbor_interface"] == "GigabitEthernet0/0/1"  # no description: the name
        assert seen["chassis_id"].startswith("001e.7a")
        assert seen["capabilities"] == "R"
        (row,) = parse_output(
            "cisco_ios", "show lldp neighbors", one.send_command("show lldp neighbors")
        )
        assert row["neighbor_name"] == "R2-core-router-42.la"
        assert (row["local_interface"], row["neighbor_interface"]) == ("Gi0/0/1", "Gi0/0/1")
        (back,) = parse_output(
            "cisco_ios",
            "show lldp neighbors detail",
            two.send_command("show lldp neighbors detail"),
        )
        assert (back["neighbor_name"], back["neighbor_interface"]) == ("R1.lab.example", "to r2")
        assert back["chassis_id"] != seen["chassis_id"]

        two.send_config_set(["interface GigabitEthernet0/0/1", "shutdown"])
        states = brief(one.send_command("show ip interface brief"))
        assert states["GigabitEthernet0/0/1"] == ("up", "down")
        assert states["GigabitEthernet0/0/2"] == ("up", "up")
        rows = [
            line.split() for line in one.send_command("show interfaces description").split("\n")
        ]
        assert ["Gi0/0/1", "up", "down", "to", "r2"] in rows
        assert "Total entries displayed: 0" in one.send_command("show lldp neighbors detail")
        two.send_config_set(["interface GigabitEthernet0/0/1", "no shutdown"])
        assert brief(one.send_command("show ip interface brief"))["GigabitEthernet0/0/1"] == (
            "up",
            "up",
        )
        assert "Total entries displayed: 1" in one.send_command("show lldp neighbors")

        two.send_config_set(["no lldp run"], error_pattern=r"% Invalid")
        assert two.send_command("show lldp neighbors") == "% LLDP is not enabled"
        assert two.send_command("show lldp neighbors detail") == "% LLDP is not enabled"
        assert "Total entries displayed: 0" in one.send_command("show lldp neighbors detail")
        assert "lldp run" not in two.send_command("show running-config")
        two.send_config_set(["lldp run"], error_pattern=r"% Invalid")
        assert "lldp run" in two.send_command("show running-config")
        assert "Total entries displayed: 1" in one.send_command("show lldp neighbors detail")
    finally:
        one.disconnect()
        two.disconnect()


def test_junos_lldp_and_link_state_with_ios_and_junos_neighbours(running_lab):
    port = free_port()
    r1 = ios(
        "r1", "hostname R1\nip domain name lab.example\nlldp run\ninterface GigabitEthernet0/0/2\n"
    )
    config = lab_config(
        [
            r1,
            {"name": "j1", "platform": "juniper_junos", "startup_config": JUNOS_NETCONF},
            {
                "name": "j2",
                "platform": "juniper_junos",
                "startup_config": "system { host-name j2; }\n"
                'interfaces { ge-0/0/2 { description "j1:ge-0/0/2"; } }\n'
                "protocols { lldp { interface all; } }\n",
            },
        ],
        mgmt_map={"10.9.0.9": f"127.0.0.1:{port}"},
        links=[link("r1 Gi0/0/2", "j1 ge-0/0/1"), link("j1 ge-0/0/2", "j2 ge-0/0/2")],
    )
    lab = running_lab(config)
    r1, j2 = lab.router("r1"), lab.router("j2")
    wait_for_management(lab, "j1")
    wait_until(lambda: lab.call(r1.state) == "press-return")
    dev = Device(host="127.0.0.1", port=port, user="admin", passwd=PASSWORD)
    dev.open()
    try:
        # j1 runs no LLDP yet: it shows nobody, and nobody shows it
        assert len(dev.rpc.get_lldp_neighbors_information()) == 0
        assert "Total entries displayed: 0" in lab.call(r1.show_lldp_neighbors_detail)
        assert lab.call(j2.lldp_rows) == []
        assert "lldp subsystem not running" in dev.cli("show lldp neighbors", warning=False)

        commit_set(dev, "set protocols lldp interface all")
        reply = dev.rpc.get_lldp_neighbors_information()
        ios_end, junos_end = reply.findall("lldp-neighbor-information")
        assert {child.tag: child.text for child in ios_end} == {
            "lldp-local-port-id": "ge-0/0/1",
            "lldp-local-parent-interface-name": "-",
            "lldp-remote-chassis-id-subtype": "Mac address",
            "lldp-remote-chassis-id": r1.base_mac(),
            "lldp-remote-port-id-subtype": "Interface name",
            "lldp-remote-port-id": "Gi0/0/2",
            "lldp-remote-port-description": "GigabitEthernet0/0/2",
            "lldp-remote-system-name": "R1.lab.example",
        }
        assert junos_end.findtext("lldp-local-port-id") == "ge-0/0/2"
        assert junos_end.findtext("lldp-remote-port-id-subtype") == "Locally assigned"
        assert junos_end.findtext("lldp-remote-port-id") == "502"  # j2's ifIndex of ge-0/0/2
        assert junos_end.findtext("lldp-remote-port-description") == "j1:ge-0/0/2"
        assert junos_end.findtext("lldp-remote-system-name") == "j2"  # no domain on Junos
        table = LLDPNeighborTable(dev).get()
        assert table["ge-0/0/1"].remote_sysname == "R1.lab.example"
        assert table["ge-0/0/2"].remote_chassis_id == j2.base_mac()
        rows = parse_output(
            "juniper_junos", "show lldp neighbors", dev.cli("show lldp neighbors", warning=False)
        )
        assert [(r["local_interface"], r["neighbor_name"]) for r in rows] == [
            ("ge-0/0/1", "R1.lab.example"),
            ("ge-0/0/2", "j2"),
        ]
        (seen,) = parse_output(
            "cisco_ios", "show lldp neighbors detail", lab.call(r1.show_lldp_neighbors_detail)
        )
        assert (seen["local_interface"], seen["neighbor_name"]) == ("Gi0/0/2", "j1")
        assert (seen["neighbor_port_id"], seen["neighbor_interface"]) == ("501", "to R1")
        assert seen["chassis_id"].startswith("2c6b.f5")
        # port-id-subtype interface-name: Junos names its ports to its neighbours
        commit_set(dev, "set protocols lldp port-id-subtype interface-name")
        (seen,) = parse_output(
            "cisco_ios", "show lldp neighbors detail", lab.call(r1.show_lldp_neighbors_detail)
        )
        assert (seen["neighbor_port_id"], seen["neighbor_interface"]) == ("ge-0/0/1", "to R1")
        commit_set(dev, "delete protocols lldp port-id-subtype")

        commit_set(dev, "set interfaces ge-0/0/1 disable")
        assert brief(lab.call(r1.show_ip_interface_brief))["GigabitEthernet0/0/2"] == (
            "up",
            "down",
        )
        terse = dev.rpc.get_interface_information(terse=True)
        state = {
            entry.findtext("name").strip(): (
                entry.findtext("admin-status").strip(),
                entry.findtext("oper-status").strip(),
            )
            for entry in terse.findall("physical-interface")
        }
        assert state["ge-0/0/1"] == ("down", "down")
        assert state["ge-0/0/2"] == ("up", "up")  # cabled to j2, both up
        assert state["ge-0/0/3"] == ("up", "up")  # on no cable: as ever
        neighbours = dev.rpc.get_lldp_neighbors_information()
        assert [n.findtext("lldp-local-port-id") for n in neighbours] == ["ge-0/0/2"]

        commit_set(dev, "delete interfaces ge-0/0/1 disable\ndelete protocols lldp")
        assert brief(lab.call(r1.show_ip_interface_brief))["GigabitEthernet0/0/2"] == (
            "up",
            "up",
        )
        assert len(dev.rpc.get_lldp_neighbors_information()) == 0
        assert "Total entries displayed: 0" in lab.call(r1.show_lldp_neighbors_detail)
        assert lab.call(j2.lldp_rows) == []
    finally:
        dev.close()
        time.sleep(0.2)  # let the lab see the channel close before it stops


def test_junos_cli_link_state_and_lldp_port_by_port(running_lab):
    lldp = "set protocols lldp interface all\n"
    config = lab_config(
        [
            {
                "name": "j1",
                "platform": "juniper_junos",
                "startup_config": "set system host-name j1\n"
                + lldp
                + "set protocols lldp interface ge-0/0/2 disable\n",
            },
            {
                "name": "j2",
                "platform": "juniper_junos",
                "startup_config": "set system host-name j2\nset interfaces ge-0/0/0 disable\n"
                + lldp,
            },
        ],
        links=[
            link("j1 ge-0/0/0", "j2 ge-0/0/0"),
            link("j1 ge-0/0/1", "j2 ge-0/0/1"),
            link("j1 ge-0/0/2", "j2 ge-0/0/2"),
        ],
    )
    lab = running_lab(config)
    j1, j2 = lab.router("j1"), lab.router("j2")
    terse = lab.call(op_command, j1, ("show", "interfaces"), ["terse", "ge-0/0/0", "ge-0/0/3"])
    assert "ge-0/0/0                up    down" in terse  # j2 disabled its end
    assert "ge-0/0/3                up    up" in terse  # on no cable: as ever
    detail = lab.call(op_command, j1, ("show", "interfaces"), ["ge-0/0/0"])
    assert "Physical interface: ge-0/0/0, Enabled, Physical link is Down" in detail
    # ge-0/0/0 is down, ge-0/0/2 has LLDP disabled on j1: j2 sees j1 on ge-0/0/1 only
    shown = lab.call(op_command, j2, ("show", "lldp", "neighbors"), [])
    assert [line.split()[0] for line in shown.splitlines()[1:]] == ["ge-0/0/1"]
    assert shown.splitlines()[1].split()[1:] == ["-", j1.base_mac(), "ge-0/0/1", "j1"]
