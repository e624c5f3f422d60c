"""Every page renders for a site built from a shipped blueprint, requires login, and shows
errors in the page (never a server error) for bad input."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.test import Client
from openpyxl import load_workbook

from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_instantiate
from turnup.configs.services import site_render
from turnup.core.models import ObjectChange
from turnup.dcim.models import Interface, Site
from turnup.dcim.services import device_update

from ..factories import RackFactory

pytestmark = pytest.mark.django_db


def test_pages_require_login(pop_site):
    client = Client()
    pages = ("/", "/sites/", f"/sites/{pop_site.slug}/", "/blueprints/", "/ipam/", "/runs/")
    for url in (*pages, "/events/", "/changes/", f"/sites/{pop_site.slug}/changes/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_every_site_tab_renders(client_in, pop_site):
    slug = pop_site.slug
    for tab in (
        "",
        "devices/",
        "racks/",
        "cabling/",
        "console/",
        "addressing/",
        "checks/",
        "configs/",
        "runs/",
        "changes/",
    ):
        response = client_in.get(f"/sites/{slug}/{tab}")
        assert response.status_code == 200, tab
        assert b'class="active" data-tab=' in response.content
    overview = client_in.get(f"/sites/{slug}/").content.decode()
    assert "<svg" in overview and "lon-01-cr1" in overview
    console = client_in.get(f"/sites/{slug}/console/").content.decode()
    assert "lon-01-cr1" in console and "9600" in console
    racks = client_in.get(f"/sites/{slug}/racks/").content.decode()
    assert "no racks" in racks
    rack = RackFactory(site=pop_site, name="R1", u_height=42)
    device_update(
        instance=pop_site.devices.get(name="lon-01-cr1"), rack=rack, position=40, face="front"
    )
    racks = client_in.get(f"/sites/{slug}/racks/").content.decode()
    assert racks.count('class="rack"') == 1 and 'data-name="lon-01-cr1"' in racks
    assert "Not mounted in a rack (4)" in racks


def test_site_list_filters_by_status(client_in, pop_site):
    page = client_in.get("/sites/?status=live").content.decode()
    assert "LON-01" not in page
    page = client_in.get(f"/sites/?status={pop_site.status}&q=lon").content.decode()
    assert "LON-01" in page


def test_wizard_shows_plan_then_creates_the_site(client_in):
    page = client_in.get("/blueprints/pop-core/")
    assert page.status_code == 200 and b'name="p-name"' in page.content
    plan = client_in.post(
        "/blueprints/pop-core/",
        {
            "p-name": "PAR-02",
            "action": "plan",
            "p-core_mtu": "9192",
            "p-topology": "square",
            "p-region": "europe",
            "p-upstream_asn": "64496",
            "p-edge_type": "cisco-c8300-1n1s-4t2x",
        },
    )
    assert plan.status_code == 200
    assert b'id="plan"' in plan.content and b"par-02-cr1" in plan.content
    assert not Site.objects.filter(name="PAR-02").exists()  # a dry run writes nothing
    created = client_in.post(
        "/blueprints/pop-core/",
        {
            "p-name": "PAR-02",
            "action": "create",
            "p-core_mtu": "9192",
            "p-topology": "square",
            "p-region": "europe",
            "p-upstream_asn": "64496",
            "p-edge_type": "cisco-c8300-1n1s-4t2x",
        },
    )
    assert created.status_code == 302
    site = Site.objects.get(name="PAR-02")
    assert created["Location"] == f"/sites/{site.slug}/"


def test_wizard_puts_errors_next_to_the_field(client_in):
    page = client_in.post(
        "/blueprints/pop-core/", {"p-name": "not a site", "action": "plan", "p-core_mtu": "100"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-error-for="name"' in html
    assert 'data-error-for="core_mtu"' in html
    assert 'id="plan"' not in html


def test_exports(client_in, pop_site):
    response = client_in.get(f"/sites/{pop_site.slug}/cabling.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Cable", "Kind", "Type", "Status"]
    assert any(r[1] == "console" for r in rows[1:]) and any(r[1] == "data" for r in rows[1:])
    response = client_in.get(f"/sites/{pop_site.slug}/cabling.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A2"].value == "Cable" and sheet.max_row == len(rows) + 1
    assert client_in.get(f"/sites/{pop_site.slug}/cabling.pdf").status_code == 404


def test_configs_render_versions_diff_and_zip(client_in, pop_site):
    response = client_in.post(f"/sites/{pop_site.slug}/configs/render/")
    assert response.status_code == 302
    page = client_in.get(f"/sites/{pop_site.slug}/configs/").content.decode()
    assert "not rendered" not in page
    router = pop_site.devices.get(name="lon-01-cr1")
    # change the design, render again: a second version and a diff
    iface = Interface.objects.filter(device=router, cable__isnull=False).first()
    from turnup.dcim.services import port_update

    port_update(instance=iface, mtu=1600)
    site_render(site=pop_site, store=True)
    page = client_in.get(f"/sites/{pop_site.slug}/devices/{router.pk}/configs/full/")
    assert page.status_code == 200
    assert b'id="diff"' in page.content and b"1600" in page.content
    archive = client_in.get(f"/sites/{pop_site.slug}/configs.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "lon-01/lon-01-cr1.full.cfg" in names


def test_interface_edit_shows_service_errors_on_the_field(client_in, pop_site):
    iface = Interface.objects.filter(device__site=pop_site, cable__isnull=False).first()
    url = f"/sites/{pop_site.slug}/interfaces/{iface.pk}/edit/"
    page = client_in.post(url, {"mtu": "10", "description": "x", "enabled": "on"})
    assert page.status_code == 200
    assert b'data-error-for="mtu"' in page.content
    ok = client_in.post(url, {"mtu": "1500", "description": "uplink", "enabled": "on"})
    assert ok.status_code == 302
    iface.refresh_from_db()
    assert (iface.mtu, iface.description) == (1500, "uplink")
    change = ObjectChange.objects.filter(changed_object_id=iface.pk, action="update").latest("id")
    assert change.prechange_data["description"] != "uplink", "the state before the edit"
    assert change.postchange_data["description"] == "uplink"


def test_status_transition_refused_shows_a_message(client_in, pop_site):
    response = client_in.post(f"/sites/{pop_site.slug}/status/", {"to_status": "live"}, follow=True)
    assert response.status_code == 200
    assert b"cannot go from" in response.content


def test_prefix_tree_shows_pools_with_usage(client_in, pop_site):
    page = client_in.get("/ipam/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="pools"' in html and "10.255.0.0/16" in html and 'class="bar' in html
    assert client_in.get("/ipam/?q=10.255").status_code == 200


def test_allocate_next_free_from_the_page(client_in, db):
    from turnup.ipam.models import IPAddress, Prefix
    from turnup.ipam.services import prefix_create

    pool = prefix_create(prefix="192.0.2.0/29", is_pool=True, name="tiny")
    url = f"/ipam/prefixes/{pool.pk}/"
    response = client_in.post(url, {"kind": "prefix", "prefix_length": "30", "count": "1"})
    assert response.status_code == 302
    assert Prefix.objects.filter(parent=pool, prefix="192.0.2.0/30").exists()
    # a length the pool cannot hold: the reason is shown next to the length field
    page = client_in.post(url, {"kind": "prefix", "prefix_length": "8", "count": "1"})
    assert page.status_code == 200 and b'data-error-for="prefix_length"' in page.content
    # exhausted: a clear message in the page, nothing written
    page = client_in.post(url, {"kind": "prefix", "prefix_length": "30", "count": "2"})
    assert page.status_code == 200 and b'id="allocate-errors"' in page.content
    assert Prefix.objects.filter(parent=pool).count() == 1
    leaf = Prefix.objects.get(prefix="192.0.2.0/30")
    response = client_in.post(f"/ipam/prefixes/{leaf.pk}/", {"kind": "ip", "count": "2"})
    assert response.status_code == 302
    assert IPAddress.objects.filter(address__startswith="192.0.2.").count() == 2


def test_device_page_lists_ports_with_addresses_and_peers(client_in, pop_site):
    router = pop_site.devices.get(name="lon-01-cr1")
    page = client_in.get(f"/sites/{pop_site.slug}/devices/{router.pk}/").content.decode()
    assert "10.255." in page  # its loopback
    assert "lon-01-cr2" in page  # a peer across a cable
    assert "lon-01-cs1 line 1" in page  # its console path
    missing = client_in.get(f"/sites/{pop_site.slug}/devices/999999/")
    assert missing.status_code == 404 and b"Not found" in missing.content


def test_overview_lists_preflight_errors_and_offers_the_svg(client_in, db):
    blueprint_instantiate(blueprint=blueprint_get(name="pop-core"), params={"name": "NYC-01"})
    site = Site.objects.get(name="NYC-01")  # no credential profile anywhere: errors
    page = client_in.get(f"/sites/{site.slug}/").content.decode()
    assert "all findings" in page and "credential profile" in page
    svg = client_in.get(f"/sites/{site.slug}/topology.svg")
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<svg")


def test_the_topology_shows_the_cabling_the_last_turn_up_saw(client_in, pop_site):
    from turnup.dcim.models import Interface
    from turnup.provisioning.models import Run, Step

    cabled = Interface.objects.filter(
        device__site=pop_site, cable__isnull=False, device__role__slug="edge"
    ).select_related("device")
    right, wrong = cabled.order_by("id")[:2]
    run = Run.objects.create(site=pop_site, status="failed")
    seen: dict = {}
    for port, verdict in ((right, "as designed"), (wrong, "otherwise")):
        seen.setdefault(port.device, {})[port.name] = verdict
    for device, cabling in seen.items():
        result = {"checks": {"cabling": cabling}}
        Step.objects.create(run=run, device=device, stage=1, order=2, name="verify", result=result)
    page = client_in.get(f"/sites/{pop_site.slug}/").content.decode()
    assert "1 as designed</b> (green) · <b>1 cabled otherwise</b>" in page
    svg = client_in.get(f"/sites/{pop_site.slug}/topology.svg").content.decode()
    assert svg.count('lldp-as-designed"') == 1 and svg.count('lldp-otherwise"') == 1
    assert f"{wrong.device.name} {wrong.name}" in svg


def test_turnup_start_board_state_and_cancel(client_in, pop_site):
    from turnup.dcim.services import site_transition
    from turnup.provisioning.models import Run

    runs_url = f"/sites/{pop_site.slug}/runs/"
    page = client_in.get(runs_url).content.decode()
    assert 'id="start-blocked"' in page and "approve it first" in page  # still planned
    for status in ("designed", "approved"):
        site_transition(site=pop_site, to_status=status)
    page = client_in.get(runs_url).content.decode()
    assert 'id="start-blocked"' not in page
    response = client_in.post(f"{runs_url}start/")
    run = Run.objects.get(site=pop_site)
    assert response.status_code == 302 and response["Location"] == f"{runs_url}{run.pk}/"
    board = client_in.get(response["Location"]).content.decode()
    assert board.count('class="dev ') == 4 and "lon-01-cr1" in board
    state = client_in.get(f"{runs_url}{run.pk}/state.json").json()
    assert state["run"]["id"] == run.pk and len(state["devices"]) == 4
    assert {d["status"] for d in state["devices"]} == {"pending"}
    assert [s["name"] for s in state["devices"][0]["steps"]][0] == "bootstrap"
    assert state["devices"][0]["console"] == "lon-01-cs1 line 1 · tcp 2001"
    # a live router whose archived running config lacks rendered statements: on its card
    lacking = "1 of 40 rendered statements are not in the running config: ntp server 192.0.2.1"
    run.steps.filter(device__name="lon-01-cr1").update(status="done")
    run.steps.filter(device__name="lon-01-cr1", name="archive").update(
        message=f"archived; {lacking}", result={"compliant": False, "missing": ["x"]}
    )
    state = client_in.get(f"{runs_url}{run.pk}/state.json").json()
    card = next(d for d in state["devices"] if d["device"] == "lon-01-cr1")
    assert card["finding"] and card["result"].endswith(f"verified · {lacking}")
    assert 'class="result finding"' in client_in.get(f"{runs_url}{run.pk}/").content.decode()
    # a second start is refused with the reason in the page, not an error page
    again = client_in.post(f"{runs_url}start/", follow=True)
    assert again.status_code == 200 and b"already being turned up" in again.content
    cancelled = client_in.post(f"{runs_url}{run.pk}/cancel/", follow=True)
    assert cancelled.status_code == 200
    run.refresh_from_db()
    assert run.cancel_requested
    assert client_in.get("/runs/").status_code == 200


def test_findings_link_to_where_they_are_fixed(db):
    from turnup.web.views import _finding_link

    site = Site(name="X", slug="x")

    def link(**finding):
        return _finding_link(site, finding)["url"]

    assert link(rule="credentials", object_type="dcim.device", object_id=3) == (
        "/sites/x/checks/#credentials"
    )
    assert link(rule="link-mtu", object_type="dcim.interface", object_id=7) == (
        "/sites/x/addressing/#if-7"
    )
    assert link(rule="console-path", object_type="dcim.device", object_id=3) == "/sites/x/console/"
    assert link(rule="mgmt-address", object_type="dcim.device", object_id=3) == (
        "/sites/x/devices/3/"
    )
    assert link(rule="summary", object_type="dcim.site", object_id=1) == ""


def test_events_page_shows_what_was_received_and_told(
    client_in, pop_site, settings, django_assert_num_queries
):
    from turnup.dcim.services import site_transition
    from turnup.events import constants, services
    from turnup.events.handlers import HANDLERS

    settings.KAFKA_BOOTSTRAP_SERVERS = []
    site_transition(site=pop_site, to_status="designed")
    for offset, value in enumerate(
        [b"garbage", b'{"site": "LON-01", "device": "nope", "serial": "S"}']
    ):
        services.inbound_apply(
            topic=constants.TOPIC_HARDWARE_DELIVERED,
            partition=0,
            offset=offset,
            key=None,
            value=value,
            handle=HANDLERS[constants.TOPIC_HARDWARE_DELIVERED],
        )
    client_in.get("/events/")  # the session and user are cached after the first request
    with django_assert_num_queries(5):  # session, user, received, told, waiting count
        page = client_in.get("/events/").content.decode()
    assert "no Kafka broker set: events wait in the outbox" in page
    assert "device: no device named &#x27;nope&#x27; at LON-01" in page
    assert "The message is not JSON." in page and "garbage" in page
    assert "site.status-changed" in page and "waiting" in page
    applied_only = client_in.get("/events/?status=applied").content.decode()
    assert "Nothing received with this status." in applied_only


def test_a_site_turning_up_offers_no_status_button_and_refuses_one_by_hand(client_in, pop_site):
    """Live or failed is the turn-up run's to say when it settles, not a person's."""
    from turnup.dcim.models import Site
    from turnup.dcim.services import site_transition

    for status in ("designed", "approved", "turning-up"):
        site_transition(site=pop_site, to_status=status)
    page = client_in.get(f"/sites/{pop_site.slug}/")
    assert b'data-transition="live"' not in page.content
    response = client_in.post(f"/sites/{pop_site.slug}/status/", {"to_status": "live"}, follow=True)
    assert response.status_code == 200
    assert Site.objects.get(pk=pop_site.pk).status == "turning-up"
