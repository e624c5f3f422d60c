"""The ipam REST API: NetBox-style URLs and fields, services behind every write, allocation
endpoints (201 / 409), filters, brief mode, bulk, constant query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.dcim.querycount import count_statements
from turnup.core.models import ObjectChange
from turnup.ipam import services
from turnup.ipam.models import VLAN, IPAddress, Prefix

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ipam.urls")]
API = "/api/ipam"


def ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json() if response.content else None


def test_prefix_crud_with_hierarchy_and_change_log(api_client):
    vrf = f.VRFFactory(name="core")
    top = ok(api_client.post(f"{API}/prefixes/", {"prefix": "10.0.0.0/16", "vrf": vrf.pk}), 201)
    assert top["family"] == {"value": 4, "label": "IPv4"}
    assert top["vrf"]["name"] == "core"
    assert top["status"] == {"value": "active", "label": "Active"}
    child = ok(
        api_client.post(
            f"{API}/prefixes/", {"prefix": "10.0.1.0/24", "vrf": {"id": vrf.pk}}, format="json"
        ),
        201,
    )
    assert (child["parent"]["id"], child["_depth"]) == (top["id"], 1)
    assert ok(api_client.get(f"{API}/prefixes/{top['id']}/"))["children"] == 1
    duplicate = api_client.post(f"{API}/prefixes/", {"prefix": "10.0.1.9/24", "vrf": vrf.pk})
    assert duplicate.status_code == 400
    assert "already exists in VRF core" in str(duplicate.json()["extra"])
    ok(api_client.delete(f"{API}/prefixes/{top['id']}/"), 204)
    assert ok(api_client.get(f"{API}/prefixes/{child['id']}/"))["_depth"] == 0
    actions = list(ObjectChange.objects.values_list("action", "user_name"))
    assert sorted(actions) == [
        ("create", "engineer"),
        ("create", "engineer"),
        ("delete", "engineer"),
    ]


def test_prefix_bulk_create_is_all_or_nothing(api_client):
    body = [{"prefix": "10.0.0.0/24"}, {"prefix": "bogus"}, {"prefix": "10.0.1.0/24"}]
    response = api_client.post(f"{API}/prefixes/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["items"]) == ["1"]
    assert not Prefix.objects.exists()
    body[1] = {"prefix": "10.0.0.0/16"}
    created = ok(api_client.post(f"{API}/prefixes/", body, format="json"), 201)
    assert [p["_depth"] for p in created] == [1, 0, 1]


def test_available_prefixes_get_and_post(api_client):
    pool = services.prefix_create(prefix="10.0.0.0/28", is_pool=True)
    url = f"{API}/prefixes/{pool.pk}/available-prefixes/"
    assert [b["prefix"] for b in ok(api_client.get(url))] == ["10.0.0.0/28"]
    one = ok(api_client.post(url, {"prefix_length": 31, "description": "link"}), 201)
    assert (one["prefix"], one["description"], one["parent"]["id"]) == (
        "10.0.0.0/31",
        "link",
        pool.pk,
    )
    many = ok(
        api_client.post(url, [{"prefix_length": 31}, {"prefix_length": 30}], format="json"),
        201,
    )
    assert [p["prefix"] for p in many] == ["10.0.0.2/31", "10.0.0.4/30"]
    assert [b["prefix"] for b in ok(api_client.get(url))] == ["10.0.0.8/29"]
    bad = api_client.post(url, {"prefix_length": 24}, format="json")
    assert bad.status_code == 400


def test_exhausted_pool_answers_409_and_creates_nothing(api_client):
    pool = services.prefix_create(prefix="10.0.0.0/30", is_pool=True)
    url = f"{API}/prefixes/{pool.pk}/available-prefixes/"
    response = api_client.post(url, [{"prefix_length": 31}] * 3, format="json")
    assert response.status_code == 409
    body = response.json()
    assert "10.0.0.0/30" in body["message"]
    assert (body["extra"]["requested"], body["extra"]["available"]) == (3, 2)
    assert Prefix.objects.count() == 1
    assert ObjectChange.objects.count() == 1
    ips = api_client.post(f"{API}/prefixes/{pool.pk}/available-ips/", {"count": 3})
    assert ips.status_code == 409
    assert not IPAddress.objects.exists()


def test_available_ips_shapes(api_client):
    interface = f.InterfaceFactory()
    prefix = services.prefix_create(prefix="10.0.0.0/29")
    url = f"{API}/prefixes/{prefix.pk}/available-ips/"
    assert [a["address"] for a in ok(api_client.get(url + "?limit=2"))] == [
        "10.0.0.1/29",
        "10.0.0.2/29",
    ]
    one = ok(
        api_client.post(
            url,
            {"assigned_interface": interface.pk, "is_primary_mgmt": True, "dns_name": "r1"},
            format="json",
        ),
        201,
    )
    assert one["address"] == "10.0.0.1/29"
    assert one["device"]["id"] == interface.device_id
    assert one["assigned_interface"]["device"]["name"] == interface.device.name
    assert (one["assigned_object_type"], one["assigned_object_id"]) == (
        "dcim.interface",
        interface.pk,
    )
    listed = ok(api_client.post(url, [{}, {"description": "b"}], format="json"), 201)
    assert [a["address"] for a in listed] == ["10.0.0.2/29", "10.0.0.3/29"]
    counted = ok(api_client.post(url, {"count": 2, "status": "reserved"}, format="json"), 201)
    assert [a["status"]["value"] for a in counted] == ["reserved", "reserved"]
    hosts = ok(api_client.post(url, {"count": 2, "mask_length": 32}, format="json"), 201)
    assert [a["address"] for a in hosts] == ["10.0.0.0/32", "10.0.0.6/32"]
    bad = api_client.post(url, [{}, {"status": "nope"}], format="json")
    assert bad.status_code == 400
    assert list(bad.json()["extra"]["items"]) == ["1"]


def test_allocating_from_a_missing_pool_answers_404_and_writes_nothing(api_client):
    for pk in ("999999", "abc"):
        response = api_client.post(f"{API}/prefixes/{pk}/available-ips/", {}, format="json")
        assert response.status_code == 404, response.content
        assert pk in response.json()["message"]
    assert not IPAddress.objects.exists()
    assert not ObjectChange.objects.exists()


def test_addresses_allocated_through_the_api_take_the_pools_vrf(api_client):
    vrf = f.VRFFactory(name="CUST-A")
    prefix = services.prefix_create(prefix="10.9.0.0/30", vrf=vrf)
    services.prefix_create(prefix="10.9.0.0/30")  # the same network in the global table
    url = f"{API}/prefixes/{prefix.pk}/available-ips/"
    with CaptureQueriesContext(connection) as ctx:
        created = ok(api_client.post(url, {"count": 2}, format="json"), 201)
    assert [(a["address"], a["vrf"]["name"]) for a in created] == [
        ("10.9.0.1/30", "CUST-A"),
        ("10.9.0.2/30", "CUST-A"),
    ]
    assert IPAddress.objects.filter(vrf=vrf).count() == 2
    assert not IPAddress.objects.filter(vrf__isnull=True).exists()
    assert sum('FROM "ipam_vrf"' in q["sql"] for q in ctx.captured_queries) == 1


def test_one_address_through_the_api_costs_a_fixed_list_of_statements(api_client):
    """Read the pool and lock (one statement on PostgreSQL), find the next free address,
    insert it, log it: the same four statements for the 1st and the 300th address (the
    service's transaction shows here as a savepoint inside the test's transaction; in
    production it is BEGIN ... COMMIT)."""
    prefix = services.prefix_create(prefix="10.0.0.0/16")
    url = f"{API}/prefixes/{prefix.pk}/available-ips/"
    expected = [
        "SELECT pool.*, pg_advisory_xact_lock("
        if connection.vendor == "postgresql"
        else 'SELECT "ipam_prefix"."id"',
        "SELECT COUNT(*), MIN(host), MAX(host)",
        'INSERT INTO "ipam_ipaddress"',
        'INSERT INTO "core_objectchange"',
    ]

    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            ok(api_client.post(url, {}, format="json"), 201)
        sqls = [" ".join(query["sql"].split()) for query in ctx.captured_queries]
        return [sql for sql in sqls if "SAVEPOINT" not in sql]

    def assert_shape(found: list[str]) -> None:
        assert len(found) == len(expected), found
        assert all(sql.startswith(start) for sql, start in zip(found, expected, strict=True))

    assert_shape(statements())
    services.ip_allocate_next(prefix=prefix, count=300)
    assert_shape(statements())
    logged = ObjectChange.objects.filter(changed_object_type__model="ipaddress")
    assert logged.count() == 302
    assert logged.filter(postchange_data__address="10.0.1.46/16", action="create").exists()


def test_ip_address_netbox_assignment_fields(api_client):
    interface = f.InterfaceFactory()
    created = ok(
        api_client.post(
            f"{API}/ip-addresses/",
            {
                "address": "192.0.2.1/24",
                "assigned_object_type": "dcim.interface",
                "assigned_object_id": interface.pk,
            },
            format="json",
        ),
        201,
    )
    assert created["assigned_interface"]["id"] == interface.pk
    refused = api_client.post(
        f"{API}/ip-addresses/",
        {"address": "192.0.2.2/24", "assigned_object_type": "virtualization.vminterface"},
        format="json",
    )
    assert refused.status_code == 400


def test_asn_and_vlan_allocation_endpoints(api_client):
    asn_range = f.ASNRangeFactory(start=65000, end=65001)
    url = f"{API}/asn-ranges/{asn_range.pk}/available-asns/"
    assert ok(api_client.get(url)) == [{"asn": 65000}, {"asn": 65001}]
    assert ok(api_client.post(url, {}, format="json"), 201)["asn"] == 65000
    assert api_client.post(url, {"count": 2}, format="json").status_code == 409
    group = f.VLANGroupFactory(min_vid=10, max_vid=11)
    url = f"{API}/vlan-groups/{group.pk}/available-vlans/"
    assert [v["vid"] for v in ok(api_client.get(url))] == [10, 11]
    vlans = ok(api_client.post(url, [{"name": "a"}, {"name": "b"}], format="json"), 201)
    assert [(v["vid"], v["name"]) for v in vlans] == [(10, "a"), (11, "b")]
    assert api_client.post(url, {"name": "c"}, format="json").status_code == 409
    assert VLAN.objects.count() == 2


def test_prefix_filters(api_client):
    vrf = f.VRFFactory(name="red", rd="65000:1")
    site = f.SiteFactory()
    services.prefix_create(prefix="10.0.0.0/16", site=site, is_pool=True)
    services.prefix_create(prefix="10.0.1.0/24", site=site)
    services.prefix_create(prefix="10.0.1.0/24", vrf=vrf)
    services.prefix_create(prefix="2001:db8::/32")

    def found(query: str) -> list[str]:
        rows = ok(api_client.get(f"{API}/prefixes/?{query}"))["results"]
        return sorted(f"{r['prefix']}@{(r['vrf'] or {}).get('name', '-')}" for r in rows)

    assert found("vrf_id=null&family=4") == ["10.0.0.0/16@-", "10.0.1.0/24@-"]
    assert found(f"vrf_id={vrf.pk}") == found("vrf=red") == found("vrf=65000:1")
    assert found("within=10.0.0.0/16") == ["10.0.1.0/24@-", "10.0.1.0/24@red"]
    assert len(found("within_include=10.0.0.0/16")) == 3
    assert found("contains=10.0.1.7&vrf_id=null") == ["10.0.0.0/16@-", "10.0.1.0/24@-"]
    assert found("is_pool=true") == ["10.0.0.0/16@-"]
    assert found(f"site_id={site.pk}&mask_length=24") == ["10.0.1.0/24@-"]
    assert found("family=6") == ["2001:db8::/32@-"]
    assert found("q=2001") == ["2001:db8::/32@-"]
    assert found("prefix=10.0.1.5/24&vrf=red") == ["10.0.1.0/24@red"]
    assert api_client.get(f"{API}/prefixes/?within=nope").status_code == 400


def test_ip_address_filters(api_client):
    interface = f.InterfaceFactory()
    other = f.InterfaceFactory()
    services.ip_address_create(address="10.0.0.1/24", assigned_interface=interface)
    services.ip_address_create(address="10.0.0.2/24", assigned_interface=other)
    services.ip_address_create(address="10.1.0.1/24", vrf=f.VRFFactory())

    def found(query: str) -> list[str]:
        return sorted(
            r["address"] for r in ok(api_client.get(f"{API}/ip-addresses/?{query}"))["results"]
        )

    assert found(f"device_id={interface.device_id}") == ["10.0.0.1/24"]
    assert found(f"interface_id={other.pk}") == ["10.0.0.2/24"]
    assert found(f"site_id={interface.device.site_id}") == ["10.0.0.1/24"]
    assert found("address=10.0.0.2") == ["10.0.0.2/24"]
    assert found("parent=10.0.0.0/16") == ["10.0.0.1/24", "10.0.0.2/24"]
    assert found("vrf_id=null") == ["10.0.0.1/24", "10.0.0.2/24"]
    assert found("assigned_to_interface=false") == ["10.1.0.1/24"]
    assert found("q=10.1.") == ["10.1.0.1/24"]


def test_brief_mode(api_client):
    services.prefix_create(prefix="10.0.0.0/24")
    row = ok(api_client.get(f"{API}/prefixes/?brief=1"))["results"][0]
    assert set(row) == {"id", "url", "display", "family", "prefix", "_depth"}


@pytest.mark.parametrize(
    ("endpoint", "make"),
    [
        (
            "prefixes",
            lambda i: services.prefix_create(
                prefix=f"10.{i // 256}.{i % 256}.0/24", vrf=f.VRFFactory(name=f"v{i % 3}")
            ),
        ),
        (
            "ip-addresses",
            lambda i: IPAddress.objects.create(
                address=f"10.{i // 256}.{i % 256}.1/24", assigned_interface=f.InterfaceFactory()
            ),
        ),
        ("vlans", lambda i: f.VLANFactory()),
        ("asns", lambda i: f.ASNFactory(site=f.SiteFactory())),
        ("vlan-groups", lambda i: f.VLANGroupFactory(site=f.SiteFactory())),
        ("vrfs", lambda i: f.VRFFactory()),
        ("asn-ranges", lambda i: f.ASNRangeFactory()),
    ],
)
def test_lists_cost_the_same_queries_for_10_and_200_rows(api_client, endpoint, make):
    def count() -> int:
        with count_statements() as counter:
            ok(api_client.get(f"{API}/{endpoint}/?limit=1000"))
        return counter.count

    for i in range(10):
        make(i)
    small = count()
    for i in range(10, 200):
        make(i)
    assert count() == small


def test_anonymous_gets_nothing(client):
    assert client.get(f"{API}/prefixes/").status_code in (401, 403)


def test_bulk_patch_moves_prefixes_and_counts_children(api_client):
    a = services.prefix_create(prefix="10.0.0.0/24")
    b = services.prefix_create(prefix="10.0.1.0/24")
    top = ok(api_client.post(f"{API}/prefixes/", {"prefix": "10.0.0.0/16"}, format="json"), 201)
    assert top["children"] == 2  # slid in above the two
    body = [{"id": a.pk, "description": "x"}, {"id": b.pk, "prefix": "10.1.1.0/24"}]
    rows = ok(api_client.patch(f"{API}/prefixes/", body, format="json"))
    assert [(r["prefix"], r["_depth"]) for r in rows] == [("10.0.0.0/24", 1), ("10.1.1.0/24", 0)]
    assert ok(api_client.get(f"{API}/prefixes/{top['id']}/"))["children"] == 1


# -- bad input: a 400 naming the parameter, never a 500 -----------------------------------

HUGE = 10**30


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("prefixes", "vrf_id", "²"),
        ("prefixes", "vrf_id", str(HUGE)),
        ("ip-addresses", "vrf_id", "abc"),
        ("prefixes", "site_id", str(HUGE)),
        ("prefixes", "mask_length", str(HUGE)),
        ("prefixes", "within", "abc"),
        ("prefixes", "within_include", "10.0.0.0/33"),
        ("prefixes", "contains", "abc"),
        ("prefixes", "prefix", "abc"),
        ("ip-addresses", "parent", "abc"),
        ("ip-addresses", "address", "abc"),
        ("asns", "asn", str(HUGE)),
        ("asns", "range_id", "1.5"),
        ("vlans", "vid", str(-HUGE)),
    ],
)
def test_a_bad_filter_value_answers_400_naming_the_parameter(api_client, path, param, value):
    response = api_client.get(f"{API}/{path}/", {param: value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == "Validation error"
    assert list(body["extra"]["fields"]) == [param]


@pytest.mark.parametrize("q", ["²", "AS²", "AS" + "9" * 5000])
def test_asn_search_with_digits_int_cannot_read_searches_the_text(api_client, q):
    f.ASNFactory(asn=65001, description="edge ²")
    response = api_client.get(f"{API}/asns/", {"q": q})
    assert response.status_code == 200, response.content
    assert ok(api_client.get(f"{API}/asns/", {"q": "AS65001"}))["count"] == 1


@pytest.mark.parametrize("mask_length", [[1], {"a": 1}, "32", True])
@pytest.mark.parametrize("prefix_exists", [True, False])
def test_available_ips_refuses_a_mask_length_that_is_not_a_number(
    api_client, mask_length, prefix_exists
):
    pk = services.prefix_create(prefix="10.0.0.0/29").pk if prefix_exists else 999999
    url = f"{API}/prefixes/{pk}/available-ips/"
    for body in ([{"mask_length": mask_length}], [{"mask_length": mask_length}] * 2):
        response = api_client.post(url, body, format="json")
        assert response.status_code == 400, response.content
        assert list(response.json()["extra"]["fields"]) == ["mask_length"]
    assert not IPAddress.objects.exists()


@pytest.mark.parametrize(
    ("name", "created"),
    [("{x}", "{x}"), ("{0}", "{0}"), ("{", "{"), ("v{vid}-{", "v10-{"), ("{vid:04d}", "{vid:04d}")],
)
def test_a_vlan_name_is_literal_but_for_vid(api_client, name, created):
    group = f.VLANGroupFactory(min_vid=10, max_vid=11)
    url = f"{API}/vlan-groups/{group.pk}/available-vlans/"
    vlan = ok(api_client.post(url, {"name": name}, format="json"), 201)
    assert (vlan["vid"], vlan["name"]) == (10, created)
    default = ok(api_client.post(url, {}, format="json"), 201)
    assert default["name"] == "VLAN0011"
