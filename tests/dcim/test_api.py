"""The dcim REST API: NetBox-style URLs and fields, services behind every write, bulk
all-or-nothing, write-only secrets, constant query counts."""

import pytest

from tests import factories as f
from tests.dcim.querycount import count_statements
from turnup.core.models import ObjectChange
from turnup.dcim import services
from turnup.dcim.models import Cable, CredentialProfile, Device, DeviceType, Interface, Site

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dcim.urls")]
API = "/api/dcim"


def _ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


# -- sites --------------------------------------------------------------------------------


def test_site_crud_and_change_log_with_the_user(api_client):
    site = _ok(
        api_client.post(f"{API}/sites/", {"name": "Paris 1", "slug": "par1"}, format="json"),
        201,
    )
    assert site["status"] == {"value": "planned", "label": "Planned"}
    assert site["url"].endswith(f"/api/dcim/sites/{site['id']}/")
    _ok(api_client.patch(f"{API}/sites/{site['id']}/", {"description": "x"}, format="json"))
    change = ObjectChange.objects.filter(action="update").get()
    assert change.user_name == "engineer"
    assert change.postchange_data["description"] == "x"


def test_site_transition_endpoint(api_client):
    site = f.SiteFactory()
    url = f"{API}/sites/{site.pk}/transition/"
    body = _ok(api_client.post(url, {"status": "designed"}, format="json"))
    assert body["status"]["value"] == "designed"
    refused = api_client.post(url, {"status": "live"}, format="json")
    assert refused.status_code == 400
    assert "allowed: planned, approved" in refused.json()["message"]
    # a plain PATCH obeys the same rules
    patched = api_client.patch(f"{API}/sites/{site.pk}/", {"status": "live"}, format="json")
    assert patched.status_code == 400
    site.refresh_from_db()
    assert site.status == "designed"


def test_guard_veto_answers_409(api_client):
    def guard(*, site, to_status):
        return ["preflight has 1 error"]

    services.site_transition_guard_register(guard)
    try:
        site = f.SiteFactory(status="designed")
        response = api_client.post(
            f"{API}/sites/{site.pk}/transition/", {"status": "approved"}, format="json"
        )
    finally:
        services.site_transition_guard_unregister(guard)
    assert response.status_code == 409
    assert response.json()["extra"]["problems"] == ["preflight has 1 error"]


def test_filters_by_status_and_q(api_client):
    f.SiteFactory(name="Lyon", slug="lyon", status="designed")
    f.SiteFactory(name="Nice", slug="nice")
    body = _ok(api_client.get(f"{API}/sites/?status=designed"))
    assert [s["slug"] for s in body["results"]] == ["lyon"]
    body = _ok(api_client.get(f"{API}/sites/?status=designed&status=planned&q=ic"))
    assert [s["slug"] for s in body["results"]] == ["nice"]


# -- devices ------------------------------------------------------------------------------


def _device_body(site, device_type, name="rtr1", **extra):
    return {
        "name": name,
        "site": site.pk,
        "device_type": device_type.pk,
        "role": f.DeviceRoleFactory(slug="edge").pk,
        "platform": {"id": f.PlatformFactory(slug="juniper_junos").pk},
        **extra,
    }


def test_device_create_returns_nested_briefs_and_creates_components(api_client):
    site, device_type = f.SiteFactory(), f.dcim_router_type(interfaces=2)
    body = _ok(
        api_client.post(f"{API}/devices/", _device_body(site, device_type), format="json"), 201
    )
    assert body["site"] == {
        "id": site.pk,
        "url": f"http://testserver/api/dcim/sites/{site.pk}/",
        "display": site.name,
        "name": site.name,
        "slug": site.slug,
    }
    assert body["platform"]["slug"] == "juniper_junos"
    assert body["role"]["slug"] == "edge"
    interfaces = _ok(api_client.get(f"{API}/interfaces/?device_id={body['id']}"))
    assert [i["name"] for i in interfaces["results"]] == ["Gi0/0/0", "Gi0/0/1", "Gi0"]
    assert interfaces["results"][0]["type"] == {"value": "1000base-t", "label": "1000BASE-T (1GE)"}
    assert interfaces["results"][0]["device"]["name"] == "rtr1"


def test_device_bulk_create_is_all_or_nothing_with_the_item_index(api_client):
    site, device_type = f.SiteFactory(), f.dcim_router_type()
    rack = f.RackFactory(site=site)
    items = [
        _device_body(site, device_type, "a", rack=rack.pk, position=1, face="front"),
        _device_body(site, device_type, "b", rack=rack.pk, position=2, face="front"),
        _device_body(site, device_type, "c", rack=rack.pk, position=2, face="front"),
    ]
    response = api_client.post(f"{API}/devices/", items, format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["items"]) == ["2"]
    assert "position" in response.json()["extra"]["items"]["2"]
    items[1]["site"] = 999999
    response = api_client.post(f"{API}/devices/", items[:2], format="json")
    assert list(response.json()["extra"]["items"]) == ["1"]
    assert "site" in response.json()["extra"]["items"]["1"]
    assert not Device.objects.exists()
    assert not Interface.objects.exists()
    assert not ObjectChange.objects.exists()

    items[1]["site"] = site.pk
    created = _ok(api_client.post(f"{API}/devices/", items[:2], format="json"), 201)
    assert [d["name"] for d in created] == ["a", "b"]
    assert Interface.objects.count() == 2 * 5


def test_device_filters(api_client):
    site, other = f.SiteFactory(slug="here"), f.SiteFactory(slug="there")
    f.DeviceFactory(name="core1", site=site, role=f.DeviceRoleFactory(slug="core"))
    f.DeviceFactory(name="edge1", site=site, platform=f.PlatformFactory(slug="juniper_junos"))
    f.DeviceFactory(name="edge2", site=other, status="active")

    def names(query):
        return sorted(d["name"] for d in _ok(api_client.get(f"{API}/devices/?{query}"))["results"])

    assert names(f"site_id={site.pk}") == ["core1", "edge1"]
    assert names("site=there") == ["edge2"]
    assert names("role=core") == ["core1"]
    assert names("platform=juniper_junos") == ["edge1"]
    assert names("status=active") == ["edge2"]
    assert names("q=edge") == ["edge1", "edge2"]
    assert names("name=core1&name=edge2") == ["core1", "edge2"]


def test_brief_mode(api_client):
    f.DeviceFactory(name="rtr9")
    row = _ok(api_client.get(f"{API}/devices/?brief=1"))["results"][0]
    assert set(row) == {"id", "url", "display", "name"}


def test_console_path_endpoint(api_client):
    site, server, (rtr,) = f.dcim_console_site(routers=1, host="192.0.2.1")
    body = _ok(api_client.get(f"{API}/devices/{rtr.pk}/console-path/"))
    assert body["console_server"] == "cs1"
    assert (body["host"], body["line"], body["port"], body["baud"]) == ("192.0.2.1", 1, 2001, 9600)
    assert body["method"] == "telnet"
    response = api_client.get(f"{API}/devices/{server.pk}/console-path/")
    assert response.status_code == 404


def test_anonymous_cannot_use_the_api(client):
    assert client.get(f"{API}/devices/").status_code in (401, 403)
    assert client.post(f"{API}/sites/", {"name": "x", "slug": "x"}).status_code in (401, 403)
    assert not Site.objects.exists()


# -- interfaces ---------------------------------------------------------------------------


def test_interface_bulk_create_update_delete(api_client):
    device = f.DeviceFactory()
    items = [
        {"device": device.pk, "name": f"xe-0/0/{n}", "type": "10gbase-x-sfpp"} for n in range(5)
    ]
    created = _ok(api_client.post(f"{API}/interfaces/", items, format="json"), 201)
    assert len(created) == 5
    assert ObjectChange.objects.filter(action="create").count() == 5

    duplicate = api_client.post(
        f"{API}/interfaces/",
        [{"device": device.pk, "name": "new", "type": "virtual"}, items[3]],
        format="json",
    )
    assert duplicate.status_code == 400
    assert list(duplicate.json()["extra"]["items"]) == ["1"]
    assert Interface.objects.count() == 5

    bad_mtu = api_client.patch(
        f"{API}/interfaces/",
        [{"id": created[0]["id"], "mtu": 9000}, {"id": created[1]["id"], "mtu": 10}],
        format="json",
    )
    assert bad_mtu.status_code == 400
    assert list(bad_mtu.json()["extra"]["items"]) == ["1"]
    assert not Interface.objects.filter(mtu__isnull=False).exists()
    _ok(api_client.patch(f"{API}/interfaces/", [{"id": i["id"], "mtu": 9000} for i in created]))
    assert Interface.objects.filter(mtu=9000).count() == 5

    response = api_client.delete(f"{API}/interfaces/", [{"id": i["id"]} for i in created])
    assert response.status_code == 204
    assert not Interface.objects.exists()


def test_interface_cable_is_read_only(api_client):
    r1, r2 = f.InterfaceFactory(), f.InterfaceFactory()
    services.cable_create(a_end=r1, b_end=r2)
    body = _ok(api_client.patch(f"{API}/interfaces/{r1.pk}/", {"cable": None}, format="json"))
    assert body["cable"] is not None
    assert body["cable_end"] == "A"
    assert body["link_peers"][0]["id"] == r2.pk
    assert body["link_peers"][0]["device"]["name"] == r2.device.name


# -- cables -------------------------------------------------------------------------------


def _term(kind, pk):
    return [{"object_type": f"dcim.{kind}", "object_id": pk}]


def test_cable_create_netbox_style_and_refusals(api_client):
    a, b, c = f.InterfaceFactory(), f.InterfaceFactory(), f.InterfaceFactory()
    con = f.ConsolePortFactory()
    body = _ok(
        api_client.post(
            f"{API}/cables/",
            {"a_terminations": _term("interface", a.pk), "b_terminations": _term("interface", b.pk)}
            | {"status": "connected"},
            format="json",
        ),
        201,
    )
    assert body["a_terminations"][0]["object_id"] == a.pk
    assert body["b_terminations"][0]["object"]["device"]["id"] == b.device_id
    assert body["status"]["value"] == "connected"

    reused = api_client.post(
        f"{API}/cables/",
        {"a_terminations": _term("interface", c.pk), "b_terminations": _term("interface", a.pk)},
        format="json",
    )
    assert reused.status_code == 400
    assert "already cabled" in reused.json()["message"]
    wrong = api_client.post(
        f"{API}/cables/",
        {
            "a_terminations": _term("interface", c.pk),
            "b_terminations": _term("consoleport", con.pk),
        },
        format="json",
    )
    assert wrong.status_code == 400
    assert "cannot be cabled" in wrong.json()["message"]
    missing = api_client.post(
        f"{API}/cables/", {"a_terminations": _term("interface", c.pk)}, format="json"
    )
    assert missing.status_code == 400
    assert Cable.objects.count() == 1


def test_cable_bulk_create_names_the_item(api_client):
    ports = f.InterfaceFactory.create_batch(4)
    items = [
        {
            "a_terminations": _term("interface", ports[0].pk),
            "b_terminations": _term("interface", ports[1].pk),
        },
        {
            "a_terminations": _term("interface", ports[2].pk),
            "b_terminations": _term("interface", 999999),
        },
    ]
    response = api_client.post(f"{API}/cables/", items, format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["items"]) == ["1"]
    assert "b_terminations" in response.json()["extra"]["items"]["1"]
    items[1]["b_terminations"] = _term("interface", ports[3].pk)
    created = _ok(api_client.post(f"{API}/cables/", items, format="json"), 201)
    assert [c["a_terminations"][0]["object_id"] for c in created] == [ports[0].pk, ports[2].pk]


def test_cable_filter_by_device_and_delete(api_client):
    a, b = f.InterfaceFactory(), f.InterfaceFactory()
    cable = services.cable_create(a_end=a, b_end=b)
    services.cable_create(a_end=f.InterfaceFactory(), b_end=f.InterfaceFactory())
    rows = _ok(api_client.get(f"{API}/cables/?device_id={b.device_id}"))["results"]
    assert [r["id"] for r in rows] == [cable.pk]
    rows = _ok(api_client.get(f"{API}/cables/?device={a.device.name}"))["results"]
    assert [r["id"] for r in rows] == [cable.pk]
    assert api_client.delete(f"{API}/cables/{cable.pk}/").status_code == 204
    a.refresh_from_db()
    assert a.cable_id is None


# -- credentials --------------------------------------------------------------------------

SECRETS = {
    "console_password": "cs-pw-1",
    "local_password": "local-pw-1",
    "junos_root_password": "root-pw-1",
    "enable_secret": "enable-pw-1",
    "snmp_auth_key": "auth-key-1",
    "snmp_priv_key": "priv-key-1",
}


def test_credential_secrets_are_write_only_even_for_admins(api_client):
    api_client.user.is_superuser = api_client.user.is_staff = True
    api_client.user.save()
    body = _ok(
        api_client.post(
            f"{API}/credential-profiles/", {"name": "lab", "local_username": "turnup", **SECRETS}
        ),
        201,
    )
    text = str(body)
    assert not any(secret in text for secret in SECRETS.values())
    assert not set(SECRETS) & set(body)
    assert all(body[f"has_{name}"] for name in SECRETS)
    listed = api_client.get(f"{API}/credential-profiles/").content.decode()
    assert not any(secret in listed for secret in SECRETS.values())
    changes = api_client.get("/api/core/object-changes/").content.decode()
    assert not any(secret in changes for secret in SECRETS.values())

    # absent or null keeps a secret, "" clears it
    body = _ok(
        api_client.patch(
            f"{API}/credential-profiles/{body['id']}/",
            {"enable_secret": "", "local_password": None, "description": "d"},
        )
    )
    assert (body["has_enable_secret"], body["has_local_password"]) == (False, True)
    profile = CredentialProfile.objects.get()
    assert (profile.local_password, profile.enable_secret) == ("local-pw-1", "")


def test_device_credential_profile_assignment(api_client):
    profile = f.CredentialProfileFactory()
    device = f.DeviceFactory()
    body = _ok(
        api_client.patch(
            f"{API}/devices/{device.pk}/", {"credential_profile": profile.pk}, format="json"
        )
    )
    assert body["credential_profile"]["name"] == profile.name


# -- query counts -------------------------------------------------------------------------


def _list_statements(api_client, url):
    with count_statements() as counter:
        assert api_client.get(url).status_code == 200
    return counter.count


def _site_with_devices(count, interfaces=4):
    site = f.SiteFactory()
    device_type = f.dcim_router_type(interfaces=interfaces)
    role, platform = f.DeviceRoleFactory(slug="edge"), f.PlatformFactory()
    rack = f.RackFactory(site=site)
    items = [
        {"name": f"d{n}", "site": site, "device_type": device_type, "role": role}
        | {"platform": platform, "rack": rack if n < 40 else None}
        | ({"position": n + 1, "face": "front"} if n < 40 else {})
        for n in range(count)
    ]
    devices = services.device_bulk_create(items=items)
    ports = list(Interface.objects.filter(device__site=site).order_by("id"))
    services.cable_bulk_create(
        items=[{"a_end": ports[i], "b_end": ports[-1 - i]} for i in range(0, count, 3)]
    )
    return site, devices


LISTS = ("devices", "interfaces", "cables", "console-ports", "console-server-ports", "racks")
LISTS += ("sites", "device-types", "interface-templates", "credential-profiles")


def _wire_consoles(site, lines):
    server = services.device_create(
        name=f"cs-{site.slug}",
        site=site,
        device_type=f.dcim_console_server_type(lines=lines),
        role=f.DeviceRoleFactory(slug="console-server"),
        console_host="192.0.2.1",
    )
    routers = Device.objects.filter(site=site).exclude(pk=server.pk).order_by("id")
    services.cable_bulk_create(
        items=[
            {"a_end": router.console_ports.get(), "b_end": line}
            for router, line in zip(routers, server.console_server_ports.all(), strict=False)
        ]
    )


def test_lists_cost_the_same_queries_for_10_and_200_rows(api_client):
    site, _ = _site_with_devices(10)
    _wire_consoles(site, 10)
    f.CredentialProfileFactory()
    small = {path: _list_statements(api_client, f"{API}/{path}/?limit=1000") for path in LISTS}

    big_site, _ = _site_with_devices(200)
    _wire_consoles(big_site, 200)
    f.SiteFactory.create_batch(190)
    f.CredentialProfileFactory.create_batch(20)
    f.dcim_router_type(interfaces=200)
    big = {path: _list_statements(api_client, f"{API}/{path}/?limit=1000") for path in LISTS}
    assert big == small
    assert Interface.objects.count() > 1000


def test_console_server_lines_are_unique_per_console_server(api_client):
    server = f.DeviceFactory(name="cs9")
    other = f.DeviceFactory(name="cs10")
    items = [
        {"device": server.pk, "name": "port1", "line": 1, "tcp_port": 2001},
        {"device": other.pk, "name": "port1", "line": 1, "tcp_port": 2001},
    ]
    created = _ok(api_client.post(f"{API}/console-server-ports/", items, format="json"), 201)
    assert created[0]["baud"] == {"value": 9600, "label": "9600 bps"}
    assert created[0]["access_method"]["value"] == "telnet"
    clash = api_client.post(
        f"{API}/console-server-ports/",
        [
            {"device": other.pk, "name": "port2", "line": 2},
            {"device": server.pk, "name": "x", "line": 1},
        ],
        format="json",
    )
    assert clash.status_code == 400
    assert list(clash.json()["extra"]["items"]) == ["1"]


def test_a_refused_credential_profile_does_not_echo_its_secrets(api_client):
    f.CredentialProfileFactory(name="taken")
    response = api_client.post(
        f"{API}/credential-profiles/", {"name": "taken", "local_password": "never-echo-me"}
    )
    assert response.status_code == 400
    assert "never-echo-me" not in response.content.decode()


def test_port_filters(api_client):
    site, server, (rtr1, rtr2) = f.dcim_console_site(routers=2)
    services.cable_create(
        a_end=rtr1.interfaces.get(name="Gi0/0/0"), b_end=rtr2.interfaces.get(name="Gi0/0/0")
    )

    def names(path, query):
        rows = _ok(api_client.get(f"{API}/{path}/?{query}&limit=1000"))["results"]
        return sorted(f"{r['device']['name']}:{r['name']}" for r in rows)

    assert names("interfaces", "cabled=true") == ["rtr1:Gi0/0/0", "rtr2:Gi0/0/0"]
    assert names("interfaces", "device=rtr1&mgmt_only=true") == ["rtr1:Gi0"]
    assert names("console-ports", f"site={site.slug}") == ["rtr1:con0", "rtr2:con0"]
    assert names("console-server-ports", "cabled=false&line=3&line=4") == ["cs1:port3", "cs1:port4"]
    assert len(_ok(api_client.get(f"{API}/cables/?site={site.slug}"))["results"]) == 3
    assert _ok(api_client.get(f"{API}/cables/?site=elsewhere"))["count"] == 0


def test_interface_bulk_rename_checks_names_and_logs_each(api_client):
    device = f.DeviceFactory()
    ports = [f.InterfaceFactory(device=device, name=f"eth{n}") for n in range(14)]
    f.InterfaceFactory(device=device, name="taken")
    url = f"{API}/interfaces/"

    clash = api_client.patch(
        url, [{"id": ports[0].pk, "name": "x"}, {"id": ports[1].pk, "name": "taken"}]
    )
    assert clash.status_code == 400
    assert list(clash.json()["extra"]["items"]) == ["1"]
    twice = api_client.patch(
        url, [{"id": ports[0].pk, "name": "y"}, {"id": ports[1].pk, "name": "y"}]
    )
    assert twice.status_code == 400
    assert list(twice.json()["extra"]["items"]) == ["1"]
    assert sorted(Interface.objects.values_list("name", flat=True))[:2] == ["eth0", "eth1"]

    body = _ok(
        api_client.patch(url, [{"id": p.pk, "name": f"ge-0/0/{n}"} for n, p in enumerate(ports)])
    )
    assert [row["name"] for row in body] == [f"ge-0/0/{n}" for n in range(14)]
    assert Interface.objects.filter(name__startswith="ge-0/0/").count() == 14
    changes = ObjectChange.objects.filter(action="update", changed_object_id=ports[3].pk)
    assert changes.count() == 1
    change = changes.get()
    assert (change.prechange_data["name"], change.postchange_data["name"]) == ("eth3", "ge-0/0/3")
    assert change.user_name == "engineer"


def test_interface_bulk_update_costs_the_same_queries_for_10_and_200(api_client):
    device = f.DeviceFactory()
    ports = [f.InterfaceFactory(device=device, name=f"p{n}") for n in range(200)]

    def patch(batch, mtu):
        with count_statements() as counter:
            _ok(api_client.patch(f"{API}/interfaces/", [{"id": p.pk, "mtu": mtu} for p in batch]))
        return counter.count

    patch(ports[:1], 1400)  # warm-up
    assert patch(ports[:10], 1500) == patch(ports, 9000)
    assert Interface.objects.filter(mtu=9000).count() == 200


def test_serializers_get_fresh_fields_from_the_cached_prototypes(rf, settings):
    """Fields are built once per serializer class and form, then copied: two serializers
    never share a bound field (each renders with its own request), the brief form keeps
    its own field set, and a nested object is rendered per serializer."""
    from turnup.dcim.api import DeviceSerializer, InterfaceSerializer

    settings.ALLOWED_HOSTS = ["one.test", "two.test"]
    interface = f.InterfaceFactory(name="Gi0/0/7")
    one = InterfaceSerializer(interface, context={"request": rf.get("/", HTTP_HOST="one.test")})
    two = InterfaceSerializer(interface, context={"request": rf.get("/", HTTP_HOST="two.test")})
    assert one.fields["name"] is not two.fields["name"]
    assert one.fields["device"] is not two.fields["device"]
    assert one.fields["name"].parent is one and two.fields["name"].parent is two
    assert one.data["url"].startswith("http://one.test/api/dcim/interfaces/")
    assert two.data["url"].startswith("http://two.test/api/dcim/interfaces/")
    assert one.data["device"]["url"].startswith("http://one.test/api/dcim/devices/")
    assert two.data["device"]["url"].startswith("http://two.test/api/dcim/devices/")
    brief = InterfaceSerializer(interface, context={"brief": True}).data
    assert set(brief) == set(InterfaceSerializer.Meta.brief_fields)
    full = InterfaceSerializer(interface, context={}).data
    assert set(full) == set(InterfaceSerializer.Meta.fields)
    assert (full["name"], full["type"]["value"], full["enabled"]) == ("Gi0/0/7", "1000base-t", True)
    device = DeviceSerializer(interface.device, context={}).data
    assert device["name"] == interface.device.name


# -- bad input: a 400 naming the field, never a 500 ---------------------------------------

HUGE = 10**30


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("devices", "site_id", "9999999999999999999"),
        ("devices", "id", "1.5"),
        ("devices", "rack_id", "²"),
        ("devices", "role_id", "0"),
        ("interfaces", "device_id", str(HUGE)),
        ("interfaces", "mtu", str(HUGE)),
        ("cables", "device_id", str(HUGE)),
        ("cables", "site_id", "-3"),
        ("console-server-ports", "line", str(-HUGE)),
        ("console-server-ports", "tcp_port", "1.5"),
        ("racks", "u_height", str(HUGE)),
    ],
)
def test_a_filter_value_that_is_not_a_number_the_column_holds_answers_400(
    api_client, path, param, value
):
    response = api_client.get(f"{API}/{path}/", {param: value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == "Validation error"
    assert list(body["extra"]["fields"]) == [param]


def test_the_device_type_field_called_model_does_not_clash_with_the_service(api_client):
    manufacturer = f.ManufacturerFactory()
    body = {"manufacturer": manufacturer.pk, "model": "FZ-9000", "slug": "fz-9000", "u_height": 1}
    created = _ok(api_client.post(f"{API}/device-types/", body, format="json"), 201)
    assert created["model"] == "FZ-9000"
    renamed = {"id": created["id"], "model": "FZ-9001"}
    _ok(api_client.patch(f"{API}/device-types/", [renamed], format="json"))
    assert DeviceType.objects.get().model == "FZ-9001"


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (HUGE, "between 1 and"),
        (-HUGE, "between 1 and"),
        ({"id": HUGE}, "between 1 and"),
        (1.5, "not a decimal number"),
        (True, "not a boolean"),
        ("²", "digits 0-9"),
    ],
)
def test_a_bulk_write_with_a_foreign_key_that_is_not_an_id_names_the_item(api_client, sent, reason):
    device_type = f.DeviceTypeFactory()
    template = f.ConsolePortTemplateFactory(device_type=device_type)
    created = api_client.post(
        f"{API}/console-port-templates/",
        [{"device_type": device_type.pk, "name": "con1"}, {"device_type": sent, "name": "con2"}],
        format="json",
    )
    assert created.status_code == 400, created.content
    assert reason in created.json()["extra"]["items"]["1"]["device_type"][0]
    patched = api_client.patch(
        f"{API}/console-port-templates/",
        [{"id": template.pk, "device_type": sent}],
        format="json",
    )
    assert patched.status_code == 400, patched.content
    assert reason in patched.json()["extra"]["items"]["0"]["device_type"][0]
    template.refresh_from_db()
    assert template.device_type == device_type


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (lambda pk: HUGE, "between 1 and"),
        (lambda pk: {"id": HUGE}, "between 1 and"),
        (lambda pk: pk + 0.5, "not a decimal number"),  # int() made it the site's id
        (lambda pk: {"id": pk + 0.5}, "not a decimal number"),
        (lambda pk: True, "not a boolean"),
        (lambda pk: f"{pk}e0", "digits 0-9"),
    ],
)
def test_a_bulk_item_whose_id_is_not_an_id_is_refused_not_rounded(api_client, method, sent, reason):
    site = f.SiteFactory()
    f.SiteFactory()
    item = {"id": sent(site.pk), "description": "x"}
    response = getattr(api_client, method)(f"{API}/sites/", [item], format="json")
    assert response.status_code == 400, response.content
    assert reason in response.json()["extra"]["items"]["0"]["id"][0]
    assert Site.objects.count() == 2
    assert not Site.objects.filter(description="x").exists()


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        ({"object_type": ["x"], "object_id": 1}, "object_type must be one of"),
        ({"object_type": {"a": 1}, "object_id": 1}, "object_type must be one of"),
        ({"object_type": "dcim.interface", "object_id": HUGE}, "object_id must be between"),
        ({"object_type": "dcim.interface", "object_id": 1.5}, "object_id must be a whole"),
    ],
)
def test_a_cable_end_that_is_not_a_port_reference_names_the_side(api_client, end, reason):
    a, b = f.InterfaceFactory(), f.InterfaceFactory()
    cable = services.cable_create(a_end=a, b_end=b)
    free = f.InterfaceFactory()
    good = _term("interface", free.pk)
    attempts = [
        (api_client.post, f"{API}/cables/", {"a_terminations": [end], "b_terminations": good}),
        (api_client.post, f"{API}/cables/", [{"a_terminations": [end], "b_terminations": good}]),
        (api_client.patch, f"{API}/cables/{cable.pk}/", {"a_terminations": [end]}),
        (api_client.patch, f"{API}/cables/", [{"id": cable.pk, "a_terminations": [end]}]),
    ]
    for send, url, body in attempts:
        response = send(url, body, format="json")
        assert response.status_code == 400, response.content
        extra = response.json()["extra"]
        fields = extra["items"]["0"] if "items" in extra else extra["fields"]
        assert reason in fields["a_terminations"][0]
    assert Cable.objects.count() == 1
