"""The routing design: model rules, selectors (constant queries) and the REST API."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.blueprints.helpers import build_site
from turnup.dcim.models import Device, Interface
from turnup.routing.models import BGPSession, DeviceRouting, OSPFInterface, area_normalize
from turnup.routing.selectors import (
    bgp_sessions_by_device,
    device_routing_by_device,
    ospf_interfaces_by_interface,
    site_routing_get,
)

pytestmark = pytest.mark.django_db


def test_area_is_stored_dotted():
    assert area_normalize("0") == "0.0.0.0"
    assert area_normalize("51") == "0.0.0.51"
    assert area_normalize("0.0.0.1") == "0.0.0.1"
    site = build_site("branch-dual", name="MAN-07")
    iface = Interface.objects.get(
        device__site=site, device__name="man-07-br1", name="GigabitEthernet0/0/3"
    )
    row = OSPFInterface(interface=iface, area="10")
    row.full_clean()
    assert row.area == "0.0.0.10"
    with pytest.raises(ValidationError):
        OSPFInterface(interface=iface, area="backbone").full_clean()


def test_a_session_cannot_peer_with_itself():
    site = build_site("branch-dual", name="MAN-07")
    device = Device.objects.get(site=site, name="man-07-br1")
    session = BGPSession(
        device=device,
        kind="ebgp",
        local_address="10.0.0.1",
        peer_address="10.0.0.1",
        remote_asn=65000,
    )
    with pytest.raises(ValidationError, match="itself"):
        session.full_clean()


def test_selectors_cost_the_same_for_any_site_size():
    small = build_site("aggregation", name="FRA-04", edge_count=4)
    big = build_site("aggregation", name="FRA-40", edge_count=40)

    def read(site):
        ids = list(Device.objects.filter(site=site).values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as ctx:
            routing = device_routing_by_device(device_ids=ids)
            ospf = ospf_interfaces_by_interface(device_ids=ids)
            sessions = bgp_sessions_by_device(device_ids=ids)
            site_routing = site_routing_get(site_id=site.pk)
            asns = {r.asn.asn for r in routing.values()}
            peers = {s.peer_device.name for rows in sessions.values() for s in rows}
        return len(ctx.captured_queries), routing, ospf, sessions, site_routing, asns, peers

    n_small, *_ = read(small)
    n_big, routing, ospf, sessions, site_routing, asns, peers = read(big)
    assert n_small == n_big
    assert len(routing) == 42  # 2 aggregation + 40 edge routers (console servers have none)
    assert len(asns) == 41  # one for the aggregation pair, one per edge router
    assert site_routing.mgmt_gateway.startswith("127.77.")
    edge = Device.objects.get(name="fra-40-er07")
    # eBGP to both aggregation routers over the link addresses
    assert sorted(s.peer_device.name for s in sessions[edge.pk]) == ["fra-40-agg1", "fra-40-agg2"]
    assert all(s.kind == "ebgp" and s.update_source == "" for s in sessions[edge.pk])
    assert len(ospf) == 6  # 2 loopbacks (passive) + 2 interconnects x 2 ends
    assert sum(1 for o in ospf.values() if o.passive) == 2


def test_api_lists_with_filters_and_constant_queries(api_client):
    site = build_site("pop-core", name="LON-01")
    response = api_client.get(f"/api/routing/bgp-sessions/?site_id={site.pk}")
    assert response.status_code == 200
    assert response.json()["count"] == 12
    cr1 = Device.objects.get(name="lon-01-cr1")
    body = api_client.get(f"/api/routing/device-routing/?device_id={cr1.pk}").json()
    assert body["count"] == 1
    assert body["results"][0]["router_id"] == DeviceRouting.objects.get(device=cr1).router_id
    ospf = api_client.get(f"/api/routing/ospf-interfaces/?device_id={cr1.pk}").json()
    assert {row["network_type"] for row in ospf["results"]} == {"point-to-point"}
    with CaptureQueriesContext(connection) as few:
        api_client.get("/api/routing/bgp-sessions/?limit=2")
    with CaptureQueriesContext(connection) as many:
        api_client.get("/api/routing/bgp-sessions/?limit=12")
    assert len(few.captured_queries) == len(many.captured_queries)


def test_api_creates_through_the_change_log(api_client):
    site = build_site("branch-dual", name="MAN-07")
    device = Device.objects.get(site=site, name="man-07-br1")
    response = api_client.post(
        "/api/routing/bgp-sessions/",
        {
            "device": device.pk,
            "kind": "ebgp",
            "local_address": "192.0.2.1",
            "peer_address": "192.0.2.2",
            "remote_asn": 64500,
            "description": "transit",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    from turnup.core.models import ObjectChange

    assert ObjectChange.objects.filter(
        changed_object_id=response.json()["id"], action="create", object_repr__contains="64500"
    ).exists()


@pytest.mark.parametrize("value", ["1.5", "9999999999999999999", "abc"])
@pytest.mark.parametrize(
    "path", ["site-routing", "device-routing", "ospf-interfaces", "bgp-sessions"]
)
def test_routing_lists_refuse_a_site_id_that_is_not_an_id(api_client, path, value):
    """``?site_id=1.5`` is not rounded to site 1: a 400 naming the parameter."""
    response = api_client.get(f"/api/routing/{path}/", {"site_id": value})
    assert response.status_code == 400, response.content
    assert list(response.json()["extra"]["fields"]) == ["site_id"]
