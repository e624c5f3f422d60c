"""Instantiating blueprints: the whole site in one transaction, idempotent, planned first."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.blueprints.helpers import build_site
from turnup.blueprints.models import BlueprintInstance
from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_instantiate, blueprint_plan
from turnup.core.errors import ConflictError
from turnup.dcim.models import Cable, ConsoleServerPort, Device, Interface, Site
from turnup.dcim.selectors import site_console_paths
from turnup.ipam.models import ASN, IPAddress, Prefix
from turnup.routing.models import BGPSession, DeviceRouting, OSPFInterface, SiteRouting

pytestmark = pytest.mark.django_db


def statements(ctx) -> int:
    """Queries, counting one bulk insert once even when SQLite's parameter limit splits it
    into several INSERTs of the same table in a row."""
    count, previous = 0, None
    for query in ctx.captured_queries:
        sql = query["sql"]
        table = sql.split("(", 1)[0] if sql.startswith("INSERT INTO") else None
        if table is None or table != previous:
            count += 1
        previous = table
    return count


def counts():
    return {
        "devices": Device.objects.count(),
        "interfaces": Interface.objects.count(),
        "cables": Cable.objects.count(),
        "ips": IPAddress.objects.count(),
        "prefixes": Prefix.objects.count(),
        "asns": ASN.objects.count(),
        "bgp": BGPSession.objects.count(),
        "ospf": OSPFInterface.objects.count(),
    }


def test_pop_core_builds_the_whole_site():
    site = build_site("pop-core", name="LON-01")
    devices = {d.name: d for d in Device.objects.filter(site=site)}
    assert sorted(devices) == ["lon-01-cr1", "lon-01-cr2", "lon-01-cs1", "lon-01-er1", "lon-01-er2"]
    assert devices["lon-01-cr1"].platform.slug == "juniper_junos"
    assert devices["lon-01-er1"].device_type.slug == "cisco-c8300-1n1s-4t2x"
    # square: cr1-cr2, er1-cr1, er2-cr2, er1-er2 (+ 4 console cables)
    links = Cable.objects.filter(interfaces__isnull=False).distinct().count()
    assert links == 4
    core_link = Interface.objects.get(device=devices["lon-01-cr1"], name="et-0/0/0")
    assert core_link.cable_id and core_link.mtu == 9192
    # next free 10G interface on the edge
    uplink = Interface.objects.get(device=devices["lon-01-er1"], name="TenGigabitEthernet0/0/4")
    assert uplink.cable_id is not None
    # console: every router on a line of the console server, with TCP port and baud
    paths = site_console_paths(site=site)
    assert len(paths) == 4
    lines = sorted(p.line for p in paths.values())
    assert lines == [1, 2, 3, 4]
    path = paths[devices["lon-01-cr1"].pk]
    assert (path.tcp_port, path.baud, path.method) == (2001, 9600, "telnet")
    assert path.host.startswith("127.77.")
    # addressing
    routing = SiteRouting.objects.get(site=site)
    assert routing.mgmt_prefix.prefix.startswith("127.77.") and routing.mgmt_prefix.prefix.endswith(
        "/24"
    )
    assert routing.mgmt_gateway.endswith(".1")
    mgmt = IPAddress.objects.filter(is_primary_mgmt=True, device__site=site)
    assert mgmt.count() == 5
    loopback = IPAddress.objects.get(
        assigned_interface__device=devices["lon-01-cr1"], assigned_interface__name="lo0"
    )
    assert loopback.address.endswith("/32") and loopback.address.startswith("10.255.")
    p2p = IPAddress.objects.filter(assigned_interface=core_link).get()
    assert p2p.address.endswith("/31")
    # routing
    rows = DeviceRouting.objects.filter(device__site=site)
    assert rows.count() == 4
    asns = {r.asn.asn for r in rows}
    assert len(asns) == 1  # one site ASN
    cr1 = rows.get(device=devices["lon-01-cr1"])
    assert cr1.router_id == loopback.ip and cr1.ospf_process == 1
    assert BGPSession.objects.filter(device__site=site).count() == 12  # iBGP full mesh of 4
    assert OSPFInterface.objects.get(interface=core_link).network_type == "point-to-point"
    instance = BlueprintInstance.objects.get(site=site)
    assert instance.variables["domain_name"] == "lon-01.pop.example.net"


def test_rerun_with_same_inputs_changes_nothing():
    build_site("pop-core", name="LON-01")
    before = counts()
    plan = blueprint_instantiate(
        blueprint=blueprint_get(name="pop-core"), params={"name": "LON-01"}
    )
    assert not plan.has_changes, [i for i in plan.items if i.action != "leave"]
    assert not plan.applied
    assert counts() == before


def test_dry_run_writes_nothing():
    blueprint = blueprint_get(name="pop-core")
    before = counts()
    plan = blueprint_plan(blueprint=blueprint, params={"name": "LON-01"})
    assert plan.counts["create"] > 20 and plan.counts["change"] == 0
    plan = blueprint_instantiate(blueprint=blueprint, params={"name": "LON-01"}, apply=False)
    assert not plan.applied
    assert counts() == before
    assert not Site.objects.filter(name="LON-01").exists()


def test_changed_params_plan_then_apply():
    build_site("pop-core", name="LON-01")
    blueprint = blueprint_get(name="pop-core")
    params = {"name": "LON-01", "topology": "full-mesh"}
    plan = blueprint_plan(blueprint=blueprint, params=params)
    creates = [i for i in plan.items if i.action == "create"]
    assert {i.kind for i in creates} >= {"cable", "p2p"}
    assert len([i for i in creates if i.kind == "cable"]) == 2
    assert any(i.action == "change" and i.kind == "blueprint-instance" for i in plan.items)
    assert any(i.action == "leave" and i.kind == "device" for i in plan.items)
    before = counts()
    assert counts() == before  # planning wrote nothing
    blueprint_instantiate(blueprint=blueprint, params=params)
    assert counts()["cables"] == before["cables"] + 2
    again = blueprint_plan(blueprint=blueprint, params=params)
    assert not again.has_changes


def test_exhausted_pool_leaves_nothing_behind():
    build_site("pop-core", name="LON-01")
    before = counts()
    sites = Site.objects.count()
    # the ASN range has room for many sites; shrink it to what is used
    from turnup.ipam.models import ASNRange

    asn_range = ASNRange.objects.get(name="pop-private")
    used = ASN.objects.get().asn
    asn_range.start = asn_range.end = used
    asn_range.save()
    with pytest.raises(ConflictError):
        build_site("pop-core", name="PAR-01")
    assert counts() == before
    assert Site.objects.count() == sites


def test_query_count_does_not_grow_with_edge_count(monkeypatch):
    # the change log writes big batches with COPY on PostgreSQL (not seen by the query
    # capture): keep every batch an INSERT so both sites are counted alike
    monkeypatch.setattr("turnup.core.changelog.COPY_THRESHOLD", 10**9)

    def run(name, count):
        with CaptureQueriesContext(connection) as ctx:
            build_site("aggregation", name=name, edge_count=count, console_servers=1)
        return statements(ctx)

    run("WARM-01", 1)  # device types, pools, ranges created once
    small = run("FRA-04", 4)
    large = run("FRA-40", 40)
    assert Device.objects.filter(site__name="FRA-40").count() == 43
    assert small == large


def test_plan_and_rerun_query_count_is_bounded():
    build_site("aggregation", name="FRA-04", edge_count=4)
    build_site("aggregation", name="FRA-40", edge_count=40)
    blueprint = blueprint_get(name="aggregation")
    with CaptureQueriesContext(connection) as small:
        blueprint_plan(blueprint=blueprint, params={"name": "FRA-04", "edge_count": 4})
    with CaptureQueriesContext(connection) as large:
        blueprint_plan(blueprint=blueprint, params={"name": "FRA-40", "edge_count": 40})
    assert statements(small) == statements(large)


def test_console_lines_run_out():
    from turnup.blueprints.design import BlueprintInvalid

    with pytest.raises(BlueprintInvalid) as error:
        build_site("aggregation", name="FRA-48", edge_count=48, console_servers=1)
    assert "no free console-server line" in str(error.value.errors)
    assert not Site.objects.filter(name="FRA-48").exists()


def test_server_ports_get_line_settings():
    site = build_site("branch-dual", name="MAN-07")
    ports = ConsoleServerPort.objects.filter(device__site=site, cable__isnull=False)
    assert sorted(p.line for p in ports) == [1, 2]
    assert {p.tcp_port for p in ports} == {2001, 2002}


@pytest.mark.parametrize(
    "params",
    [
        {"topology": "full-mesh", "mgmt_switch": "true"},
        {"edge_type": "cisco-asr1001-x"},
    ],
)
def test_pop_core_variants_pass_the_checks(params):
    from turnup.checks.selectors import site_findings
    from turnup.dcim.models import CredentialProfile

    CredentialProfile.objects.create(name="default", is_default=True)
    site = build_site("pop-core", name="LON-02", **params)
    errors = [str(f) for f in site_findings(site=site) if f.severity != "info"]
    assert errors == []
    if params.get("mgmt_switch"):
        switch = Device.objects.get(name="lon-02-ms1")
        assert Interface.objects.get(device__name="lon-02-cr1", name="fxp0").mtu is None
        assert switch.interfaces.filter(cable__isnull=False).count() == 5  # 4 routers + cs
        assert not DeviceRouting.objects.filter(device=switch).exists()
        assert site_console_paths(site=site)[switch.pk].line == 5


def test_branch_variant_with_c8300():
    site = build_site("branch-dual", name="MAN-08", router_type="cisco-c8300-1n1s-4t2x")
    assert Device.objects.filter(site=site, device_type__slug="cisco-c8300-1n1s-4t2x").count() == 2


def test_a_changed_mtu_parameter_changes_the_link_ends():
    build_site("pop-core", name="LON-01")
    blueprint = blueprint_get(name="pop-core")
    params = {"name": "LON-01", "core_mtu": 1500}
    plan = blueprint_plan(blueprint=blueprint, params=params)
    changes = [i for i in plan.items if i.action == "change" and i.kind == "interface"]
    assert len(changes) == 8  # both ends of the 4 links
    assert all(i.changes == {"mtu": [9192, 1500]} for i in changes)
    blueprint_instantiate(blueprint=blueprint, params=params)
    core_link = Interface.objects.get(device__name="lon-01-cr1", name="et-0/0/0")
    assert core_link.mtu == 1500
    assert not blueprint_plan(blueprint=blueprint, params=params).has_changes


TINY = """
name: tiny
version: 1
parameters:
  name: {type: string}
pools:
  tiny-p2p: {prefix: 10.99.0.0/30}
  tiny-loopbacks: {prefix: 10.98.0.0/24}
addressing:
  loopback: {pool: tiny-loopbacks}
  p2p: {pool: tiny-p2p, prefix_length: 31}
slots:
  - name: r
    count: 3
    name_pattern: "{site_lower}-r{n}"
    role: edge
    device_type: cisco-isr4431
    platform: cisco_iosxe
    loopback_interface: Loopback0
    links:
      - {peer: r, kind: 1000base-t, peer_kind: 1000base-t}
"""


def test_an_exhausted_prefix_pool_leaves_nothing_behind():
    from turnup.blueprints.services import blueprint_create

    blueprint = blueprint_create(source=TINY)
    before = counts()
    sites = Site.objects.count()
    with pytest.raises(ConflictError) as error:  # 3 links, room for two /31s
        blueprint_instantiate(blueprint=blueprint, params={"name": "T-01"})
    assert error.value.status_code == 409
    assert "exhausted" in error.value.message
    assert counts() == before
    assert Site.objects.count() == sites


def test_a_changed_region_changes_the_site():
    site = build_site("branch-dual", name="MAN-07")
    assert site.region == "europe"
    blueprint = blueprint_get(name="branch-dual")
    plan = blueprint_plan(blueprint=blueprint, params={"name": "MAN-07", "region": "apac"})
    (row,) = [i for i in plan.items if i.kind == "site"]
    assert (row.action, row.changes) == ("change", {"region": ["europe", "apac"]})
    blueprint_instantiate(blueprint=blueprint, params={"name": "MAN-07", "region": "apac"})
    site.refresh_from_db()
    assert site.region == "apac"


def test_a_site_built_from_one_blueprint_does_not_take_another():
    build_site("pop-core", name="LON-01")
    before = counts()
    for dry_run in (True, False):
        with pytest.raises(ConflictError) as error:
            blueprint_instantiate(
                blueprint=blueprint_get(name="branch-dual"),
                params={"name": "LON-01"},
                apply=not dry_run,
            )
        assert error.value.status_code == 409
        assert error.value.message.startswith(
            "Site LON-01 was built from blueprint pop-core: it cannot take branch-dual as well"
        )
    assert counts() == before
    assert BlueprintInstance.objects.get(site__name="LON-01").blueprint.name == "pop-core"


def test_the_design_of_a_site_turning_up_does_not_change_until_its_run_settles():
    site = build_site("branch-dual", name="MAN-07")
    Site.objects.filter(pk=site.pk).update(status="turning-up")
    blueprint = blueprint_get(name="branch-dual")
    params = {"name": "MAN-07", "region": "apac"}
    assert blueprint_plan(blueprint=blueprint, params=params).has_changes, "a plan is shown"
    with pytest.raises(ConflictError, match="Site MAN-07 is turning up: its design cannot"):
        blueprint_instantiate(blueprint=blueprint, params=params)
    site.refresh_from_db()
    assert site.region == "europe"
    Site.objects.filter(pk=site.pk).update(status="failed")
    blueprint_instantiate(blueprint=blueprint, params=params)
    site.refresh_from_db()
    assert site.region == "apac"
