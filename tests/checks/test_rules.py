"""Preflight rules: each one fires on a broken design and stays quiet on a clean one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.blueprints.helpers import build_site
from turnup.checks.engine import site_data_load
from turnup.checks.rules import duplicate_addresses
from turnup.checks.selectors import site_findings
from turnup.core.errors import ConflictError
from turnup.dcim import services as dcim
from turnup.dcim.models import (
    ConsolePort,
    ConsoleServerPort,
    CredentialProfile,
    Device,
    DeviceType,
    Interface,
    Platform,
)
from turnup.ipam.models import IPAddress
from turnup.routing.models import BGPSession, OSPFInterface, SiteRouting

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    CredentialProfile.objects.create(name="default", is_default=True, local_username="turnup")
    return build_site("branch-dual", name="MAN-07")


def rules_fired(site, rule):
    return [f for f in site_findings(site=site) if f.rule == rule]


def device(name):
    return Device.objects.get(name=name)


def link_ends():
    """The two ends of the branch interconnect (GigabitEthernet0/0/2 of br1 and br2)."""
    a = Interface.objects.get(device__name="man-07-br1", name="GigabitEthernet0/0/2")
    b = Interface.objects.get(device__name="man-07-br2", name="GigabitEthernet0/0/2")
    return a, b


def test_a_clean_blueprint_site_has_no_errors(site):
    findings = site_findings(site=site)
    assert [f for f in findings if f.severity == "error"] == []


def test_findings_name_the_object_and_how_to_fix(site):
    IPAddress.objects.filter(device__name="man-07-br1", is_primary_mgmt=True).delete()
    (item,) = rules_fired(site, "mgmt-address")
    assert item.severity == "error"
    assert item.object_type == "dcim.device"
    assert item.object_id == device("man-07-br1").pk
    assert item.object_name == "man-07-br1"
    assert "allocate one" in item.message


# -- ip-duplicate -----------------------------------------------------------------------------
def test_ip_duplicate_fires_on_a_repeated_address(site):
    # The database refuses a duplicate in one VRF; the rule is the second line of defence
    # for rows that bypassed it (a raw import), so it is fed the data directly.
    data = site_data_load(site=site)
    copy = IPAddress(
        **{
            f.attname: getattr(data.addresses[0], f.attname)
            for f in IPAddress._meta.concrete_fields
        }
    )
    copy.pk = 10**9
    copy.device_id = data.addresses[1].device_id
    data.vrf_peers.append(copy)
    data.vrf_peers[-1].device = Device.objects.get(pk=copy.device_id)
    found = list(duplicate_addresses(data))
    assert found and found[0].rule == "ip-duplicate"
    assert "more than once" in found[0].message


def test_ip_duplicate_quiet(site):
    assert rules_fired(site, "ip-duplicate") == []


# -- ip-overlap -------------------------------------------------------------------------------
def test_ip_overlap_fires(site):
    a, _ = link_ends()
    network = IPAddress.objects.get(assigned_interface=a).interface.network  # a /31
    spare = Interface.objects.get(device__name="man-07-br1", name="GigabitEthernet0/0/3")
    IPAddress.objects.create(address=f"{network.network_address + 2}/30", assigned_interface=spare)
    found = rules_fired(site, "ip-overlap")
    assert found and "overlaps" in found[0].message


def test_ip_overlap_quiet(site):
    assert rules_fired(site, "ip-overlap") == []


# -- link-subnet ------------------------------------------------------------------------------
def test_link_subnet_fires_on_different_subnets(site):
    _, b = link_ends()
    address = IPAddress.objects.get(assigned_interface=b)
    address.address = "10.252.200.1/31"
    address.save()
    found = rules_fired(site, "link-subnet")
    assert found and "different subnets" in found[0].message


def test_link_subnet_fires_on_a_missing_end(site):
    _, b = link_ends()
    IPAddress.objects.filter(assigned_interface=b).delete()
    found = rules_fired(site, "link-subnet")
    assert found and "has no address" in found[0].message


def test_link_subnet_quiet(site):
    assert rules_fired(site, "link-subnet") == []


# -- link-mtu ---------------------------------------------------------------------------------
def test_link_mtu_fires(site):
    a, b = link_ends()
    Interface.objects.filter(pk=a.pk).update(mtu=9000)
    Interface.objects.filter(pk=b.pk).update(mtu=1500)
    found = rules_fired(site, "link-mtu")
    assert found and "MTU 9000" in found[0].message and "1500" in found[0].message


def test_link_mtu_quiet(site):
    a, b = link_ends()
    Interface.objects.filter(pk__in=[a.pk, b.pk]).update(mtu=9000)
    assert rules_fired(site, "link-mtu") == []


# -- console-path -----------------------------------------------------------------------------
def test_console_path_fires_without_cable(site):
    port = ConsolePort.objects.get(device__name="man-07-br1")
    dcim.cable_delete(instance=port.cable)
    found = rules_fired(site, "console-path")
    assert [f.object_name for f in found] == ["man-07-br1"]
    assert "not cabled" in found[0].message


def test_console_path_fires_without_tcp_port(site):
    port = ConsolePort.objects.get(device__name="man-07-br2")
    ConsoleServerPort.objects.filter(cable=port.cable).update(tcp_port=None)
    found = rules_fired(site, "console-path")
    assert found and "no TCP port" in found[0].message


def test_console_path_over_ssh_needs_no_tcp_port(site):
    port = ConsolePort.objects.get(device__name="man-07-br2")
    ConsoleServerPort.objects.filter(cable=port.cable).update(tcp_port=None, access_method="ssh")
    assert rules_fired(site, "console-path") == []


def test_console_path_quiet(site):
    assert rules_fired(site, "console-path") == []


# -- console-line-shared ----------------------------------------------------------------------
def test_console_line_shared_fires(site):
    server = device("man-07-cs1")
    twin = dcim.device_create(
        name="man-07-cs2",
        site=site,
        device_type=server.device_type,
        role=server.role,
        platform=server.platform,
        console_host=server.console_host,  # the same box entered twice
    )
    router = device("man-07-br1")
    third = dcim.device_create(
        name="man-07-br3",
        site=site,
        device_type=router.device_type,
        role=router.role,
        platform=router.platform,
    )
    dcim.cable_create(
        a_end=ConsolePort.objects.get(device=third),
        b_end=ConsoleServerPort.objects.get(device=twin, line=1),
    )
    found = rules_fired(site, "console-line-shared")
    names = {f.object_name for f in found}
    assert names == {"man-07-br1", "man-07-br3"}
    assert "line 1" in found[0].message or "TCP port 2001" in found[0].message


def test_console_line_shared_quiet(site):
    assert rules_fired(site, "console-line-shared") == []


# -- mgmt-address -----------------------------------------------------------------------------
def test_missing_loopback_fires(site):
    IPAddress.objects.filter(device__name="man-07-br2", role="loopback").delete()
    found = rules_fired(site, "mgmt-address")
    assert [f.object_name for f in found] == ["man-07-br2"]
    assert "loopback" in found[0].message


def test_mgmt_address_quiet(site):
    assert rules_fired(site, "mgmt-address") == []


# -- bgp-mismatch -----------------------------------------------------------------------------
def test_bgp_remote_asn_mismatch_fires(site):
    session = BGPSession.objects.get(device__name="man-07-br1")
    session.remote_asn = 65000
    session.save()
    found = rules_fired(site, "bgp-mismatch")
    assert any("remote AS65000" in f.message for f in found)


def test_bgp_address_mismatch_fires(site):
    session = BGPSession.objects.get(device__name="man-07-br2")
    session.peer_address = "10.99.99.99"
    session.save()
    messages = " ".join(f.message for f in rules_fired(site, "bgp-mismatch"))
    assert "not an address of man-07-br1" in messages
    assert "no session back" in messages


def test_bgp_quiet(site):
    assert BGPSession.objects.count() == 2
    assert rules_fired(site, "bgp-mismatch") == []


# -- ospf-mismatch ----------------------------------------------------------------------------
def test_ospf_area_and_type_mismatch_fire(site):
    a, _ = link_ends()
    OSPFInterface.objects.filter(interface=a).update(area="0.0.0.1", network_type="broadcast")
    messages = [f.message for f in rules_fired(site, "ospf-mismatch")]
    assert any("area 0.0.0.1 vs 0.0.0.0" in m for m in messages)
    assert any("network type broadcast vs point-to-point" in m for m in messages)


def test_ospf_quiet_and_areas_compare_numerically(site):
    a, _ = link_ends()
    OSPFInterface.objects.filter(interface=a).update(area="0")
    assert rules_fired(site, "ospf-mismatch") == []


# -- platform ---------------------------------------------------------------------------------
def test_unsupported_platform_fires(site):
    eos = Platform.objects.create(name="Arista EOS", slug="arista_eos")
    Device.objects.filter(name="man-07-br1").update(platform=eos)
    found = rules_fired(site, "platform")
    assert [f.object_name for f in found] == ["man-07-br1"]
    assert "arista_eos" in found[0].message


def test_no_platform_at_all_fires(site):
    DeviceType.objects.filter(devices__name="man-07-br2").update(default_platform=None)
    Device.objects.filter(name="man-07-br2").update(platform=None)
    assert [f.object_name for f in rules_fired(site, "platform")] == ["man-07-br2"]


def test_platform_quiet(site):
    assert rules_fired(site, "platform") == []


# -- mgmt-gateway -----------------------------------------------------------------------------
def test_unrouted_gateway_fires(site):
    SiteRouting.objects.filter(site=site).update(mgmt_gateway="10.9.9.9")
    found = rules_fired(site, "mgmt-gateway")
    assert found and "not a host of the management prefix" in found[0].message


def test_gateway_quiet(site):
    assert rules_fired(site, "mgmt-gateway") == []


# -- credentials ------------------------------------------------------------------------------
def test_missing_credentials_fire(site):
    CredentialProfile.objects.update(is_default=False)
    found = rules_fired(site, "credentials")
    assert {f.object_name for f in found} == {"man-07-br1", "man-07-br2", "man-07-cs1"}


def test_credentials_quiet_with_a_site_profile(site):
    CredentialProfile.objects.update(is_default=False)
    site.credential_profile = CredentialProfile.objects.get()
    site.save()
    assert rules_fired(site, "credentials") == []


# -- engine -----------------------------------------------------------------------------------
def test_checks_cost_the_same_queries_for_a_small_and_a_big_site():
    small = build_site("aggregation", name="FRA-04", edge_count=4)
    big = build_site("aggregation", name="FRA-40", edge_count=40)
    with CaptureQueriesContext(connection) as a:
        site_findings(site=small)
    with CaptureQueriesContext(connection) as b:
        site_findings(site=big)
    assert len(a.captured_queries) == len(b.captured_queries)


def test_error_findings_block_approval(site):
    dcim.site_transition(site=site, to_status="designed")
    IPAddress.objects.filter(device__name="man-07-br1", is_primary_mgmt=True).delete()
    with pytest.raises(ConflictError) as error:
        dcim.site_transition(site=site, to_status="approved")
    problems = error.value.extra["problems"]
    assert "preflight checks found 1 error" in problems[0]
    assert any("man-07-br1" in p and "[mgmt-address]" in p for p in problems[1:])
    site.refresh_from_db()
    assert site.status == "designed"


def test_a_clean_site_can_be_approved_and_turned_up(site):
    for status in ("designed", "approved", "turning-up"):
        dcim.site_transition(site=site, to_status=status)
    site.refresh_from_db()
    assert site.status == "turning-up"
