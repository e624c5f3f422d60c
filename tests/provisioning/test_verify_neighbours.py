"""Verification against the cabling: the LLDP neighbours a router shows, compared with the
far ends of the design's cables, whatever the vendors' spellings."""

from __future__ import annotations

from lxml import etree

from turnup.provisioning.drivers.base import (
    InterfaceExpectation,
    Neighbour,
    neighbours_awaited,
    neighbours_verdict,
    same_port,
)
from turnup.provisioning.drivers.iosxe import parse_lldp_neighbors_detail
from turnup.provisioning.drivers.junos import lldp_neighbours


def test_one_port_in_the_vendors_spellings():
    assert same_port("Gi0/0/1", "GigabitEthernet0/0/1")
    assert same_port("TenGigabitEthernet0/0/4", "Te0/0/4")
    assert same_port("ge-0/0/1", "ge-0/0/1")
    assert not same_port("Gi0/0/1", "GigabitEthernet0/0/2")
    assert not same_port("Gi0/0/1", "Te0/0/1")
    assert not same_port("ge-0/0/1", "GigabitEthernet0/0/1")
    assert not same_port("528", "ge-0/0/1")


CABLED = [
    InterfaceExpectation(name="GigabitEthernet0", line_up=True),  # management: no cable
    InterfaceExpectation(name="GigabitEthernet0/0/1", peer_device="cr1", peer_port="xe-0/1/0"),
    InterfaceExpectation(
        name="GigabitEthernet0/0/2", peer_device="er2", peer_port="GigabitEthernet0/0/2"
    ),
    InterfaceExpectation(
        name="GigabitEthernet0/0/3", peer_device="er3", peer_port="GigabitEthernet0/0/3"
    ),
]


def test_neighbours_as_cabled_and_not_yet_seen():
    checks, cabling, problems = neighbours_verdict(
        CABLED,
        {
            # Junos sends a local number as port id, the port's name as its description
            "Gi0/0/1": Neighbour(system="cr1", port_id="528", port_description="xe-0/1/0"),
            # IOS adds its domain to its name and sends the short port name
            "Gi0/0/2": Neighbour(system="er2.site.example", port_id="Gi0/0/2"),
        },
    )
    assert problems == []
    assert checks == {
        "GigabitEthernet0/0/1": "cr1 xe-0/1/0",
        "GigabitEthernet0/0/2": "er2.site.example Gi0/0/2",
        "GigabitEthernet0/0/3": "none",  # its far end is not up yet: recorded, not failed
    }
    assert cabling == {
        "GigabitEthernet0/0/1": "as designed",
        "GigabitEthernet0/0/2": "as designed",
        "GigabitEthernet0/0/3": "not seen",
    }


def test_a_junos_neighbour_that_does_not_name_its_port_is_judged_by_its_device():
    """Junos by default sends a number as port id and the port's own description: the far
    port cannot be told, its device can."""
    numbered = Neighbour(system="cr1", port_id="502", port_description="to er1 Gi0/0/1")
    checks, _, problems = neighbours_verdict(CABLED, {"Gi0/0/1": numbered})
    assert problems == [] and checks["GigabitEthernet0/0/1"] == "cr1 (its port unnamed)"
    elsewhere = Neighbour(system="cr2", port_id="502", port_description="to er1 Gi0/0/1")
    assert neighbours_verdict(CABLED, {"Gi0/0/1": elsewhere})[2] == [
        "GigabitEthernet0/0/1 sees cr2 (its port unnamed) over LLDP; the design cables it "
        "to cr1 xe-0/1/0"
    ]


def test_a_port_cabled_otherwise_than_designed_is_named_with_both_ends():
    checks, cabling, problems = neighbours_verdict(
        CABLED,
        {
            "Gi0/0/2": Neighbour(system="er3.site.example", port_id="Gi0/0/3"),
            "Gi0/0/3": Neighbour(system="er2.site.example", port_id="Gi0/0/9"),
        },
    )
    assert problems == [
        "GigabitEthernet0/0/2 sees er3.site.example Gi0/0/3 over LLDP; the design cables it "
        "to er2 GigabitEthernet0/0/2",
        "GigabitEthernet0/0/3 sees er2.site.example Gi0/0/9 over LLDP; the design cables it "
        "to er3 GigabitEthernet0/0/3",
    ]
    assert checks["GigabitEthernet0/0/1"] == "none"
    assert cabling["GigabitEthernet0/0/2"] == cabling["GigabitEthernet0/0/3"] == "otherwise"


def test_ios_lldp_neighbors_detail_is_read_block_by_block():
    text = """
Capability codes:
    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device

------------------------------------------------
Local Intf: Gi0/0/1
Chassis id: 5254.00a1.0001
Port id: 528
Port Description: xe-0/1/0
System Name: cr1

System Description:
Juniper Networks, Inc. mx204 internet router

Time remaining: 98 seconds
------------------------------------------------
Local Intf: Te0/0/4
Chassis id: 5254.00a1.0002
Port id: Te0/0/4
Port Description: to er1
System Name: er2.site.example

Total entries displayed: 2
"""
    assert parse_lldp_neighbors_detail(text) == {
        "Gi0/0/1": Neighbour(system="cr1", port_id="528", port_description="xe-0/1/0"),
        "Te0/0/4": Neighbour(
            system="er2.site.example", port_id="Te0/0/4", port_description="to er1"
        ),
    }


def test_junos_lldp_neighbours_from_the_rpc_reply():
    reply = etree.fromstring(
        """<lldp-neighbors-information>
  <lldp-neighbor-information>
    <lldp-local-port-id>xe-0/1/0</lldp-local-port-id>
    <lldp-local-parent-interface-name>-</lldp-local-parent-interface-name>
    <lldp-remote-chassis-id-subtype>Mac address</lldp-remote-chassis-id-subtype>
    <lldp-remote-chassis-id>52:54:00:a1:00:02</lldp-remote-chassis-id>
    <lldp-remote-port-id-subtype>Interface name</lldp-remote-port-id-subtype>
    <lldp-remote-port-id>Gi0/0/1</lldp-remote-port-id>
    <lldp-remote-port-description>to cr1</lldp-remote-port-description>
    <lldp-remote-system-name>er1.site.example</lldp-remote-system-name>
  </lldp-neighbor-information>
  <lldp-neighbor-information>
    <lldp-local-interface>xe-0/1/1</lldp-local-interface>
    <lldp-remote-port-id>531</lldp-remote-port-id>
    <lldp-remote-port-description>xe-0/1/1</lldp-remote-port-description>
    <lldp-remote-system-name>cr2</lldp-remote-system-name>
  </lldp-neighbor-information>
</lldp-neighbors-information>"""
    )
    assert lldp_neighbours(reply) == {
        "xe-0/1/0": Neighbour(
            system="er1.site.example", port_id="Gi0/0/1", port_description="to cr1"
        ),
        "xe-0/1/1": Neighbour(system="cr2", port_id="531", port_description="xe-0/1/1"),
    }


class _Time:
    """A clock that moves only when verification sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


AWAITED = [
    InterfaceExpectation(
        name="Gi0/0/1", peer_device="er2", peer_port="Gi0/0/1", await_neighbour=True
    ),
    InterfaceExpectation(
        name="Gi0/0/2", peer_device="er3", peer_port="Gi0/0/1", await_neighbour=True
    ),
    InterfaceExpectation(name="Gi0/0/3", peer_device="er4", peer_port="Gi0/0/1"),
]
ER2 = {"Gi0/0/1": Neighbour(system="er2", port_id="Gi0/0/1")}


def test_verification_reads_lldp_again_until_an_awaited_far_end_shows():
    time = _Time()
    reads = iter([{}, {}, ER2])
    up = {"Gi0/0/1": (True, True), "Gi0/0/2": (True, False), "Gi0/0/3": (True, True)}
    neighbours, waited = neighbours_awaited(
        lambda: next(reads), AWAITED, up, wait=35, clock=time.clock, sleep=time.sleep
    )
    # Gi0/0/2's line is down (its far end is not up: nothing to hear) and Gi0/0/3's far end
    # does not run LLDP yet: only Gi0/0/1 was waited for, read every 2 s until it showed
    assert neighbours == ER2 and waited == 4.0 and time.sleeps == [2.0, 2.0]


def test_verification_stops_waiting_for_lldp_at_its_limit():
    time = _Time()
    up = {"Gi0/0/1": (True, True)}
    neighbours, waited = neighbours_awaited(
        dict, AWAITED, up, wait=5, clock=time.clock, sleep=time.sleep
    )
    assert neighbours == {} and waited == 5.0 and time.sleeps == [2.0, 2.0, 1.0]
    time = _Time()
    _, waited = neighbours_awaited(dict, AWAITED, up, wait=0, clock=time.clock, sleep=time.sleep)
    assert waited == 0.0 and time.sleeps == []  # no wait asked: what LLDP shows at once
