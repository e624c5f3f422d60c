"""The change-log pages: who changed what, when — of every site, or of one site's design
(its devices, deleted ones too, their ports, addresses and routing); filters; a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_instantiate
from turnup.core.context import bind_request_id, unbind_request_id
from turnup.dcim.models import Device, Interface, Site
from turnup.dcim.services import device_delete, device_update, port_update

pytestmark = pytest.mark.django_db


def _rows(response) -> list[str]:
    assert response.status_code == 200
    body = response.content.decode()
    table = body[body.index('id="changes"') :]
    return re.findall(r"<tr data-action=.*?</tr>", table, re.S)


@pytest.fixture
def other_site(pop_site) -> Site:
    blueprint_instantiate(blueprint=blueprint_get(name="pop-core"), params={"name": "PAR-01"})
    return Site.objects.get(name="PAR-01")


def test_a_site_shows_its_own_changes_with_what_each_update_changed(
    client_in, pop_site, other_site
):
    port = Interface.objects.filter(device__name="lon-01-er1", mgmt_only=False).first()
    port_update(instance=port, mtu=9100, description="to core")
    device_update(instance=Device.objects.get(name="lon-01-er2"), serial="FOC1234X")
    device_update(instance=Device.objects.get(name="par-01-er1"), serial="ELSEWHERE")

    rows = _rows(client_in.get(f"/sites/{pop_site.slug}/changes/"))
    text = "\n".join(rows)
    row = next(row for row in rows if "<b>mtu</b>" in row)
    assert re.search(r"<b>mtu</b>: \d+ → 9100", row), row
    assert "<b>description</b>: &quot;&quot; → to core" in row, row  # empty, not missing
    assert f'<span class="mono">{port.name}</span> <span class="muted">on</span> ' in row
    assert 'title="this device\'s changes">lon-01-er1</a>' in row
    assert "FOC1234X" in text
    assert "ELSEWHERE" not in text and "par-01" not in text
    assert (
        'data-tab="changes"' in client_in.get(f"/sites/{pop_site.slug}/changes/").content.decode()
    )
    everything = "\n".join(_rows(client_in.get("/changes/")))
    assert "ELSEWHERE" in everything and "FOC1234X" in everything


def test_a_deleted_device_and_what_went_with_it_stay_in_its_sites_changes(client_in, pop_site):
    device = Device.objects.get(name="lon-01-er2")
    device_id = device.pk
    ports = set(Interface.objects.filter(device=device).values_list("name", flat=True))
    device_delete(instance=device)

    deletes = _rows(client_in.get(f"/sites/{pop_site.slug}/changes/?action=delete"))
    assert deletes and all('data-action="delete"' in row for row in deletes)
    shown = "\n".join(deletes)
    assert "lon-01-er2" in shown
    assert sum(f">{name}<" in shown for name in ports) == len(ports)
    # the device is gone: its ports name it as the log last knew it, a link to its rows
    port_rows = [row for row in deletes if 'data-kind="interface"' in row]
    assert all("?device=lon-01-er2" in row for row in port_rows)
    assert f"device #{device_id}" not in shown
    interfaces = _rows(
        client_in.get(f"/sites/{pop_site.slug}/changes/?action=delete&kind=interface")
    )
    assert len(interfaces) == len(ports)
    assert all('data-kind="interface"' in row for row in interfaces)


def test_a_request_id_shows_every_change_of_that_request(client_in, pop_site):
    token = bind_request_id("req-rename-7")
    try:
        device_update(instance=Device.objects.get(name="lon-01-er1"), serial="S-1")
        device_update(instance=Device.objects.get(name="lon-01-er2"), serial="S-2")
    finally:
        unbind_request_id(token)
    rows = _rows(client_in.get("/changes/?q=req-rename-7"))
    assert len(rows) == 2
    assert all("S-" in row for row in rows)


def test_unknown_filter_values_are_ignored_not_errors(client_in, pop_site):
    everything = _rows(client_in.get("/changes/"))
    assert everything
    assert len(_rows(client_in.get("/changes/?action=drop&kind=nope%00"))) == len(everything)
    assert _rows(client_in.get("/changes/?q=%00")) == everything


def test_the_pages_cost_the_same_queries_for_few_and_many_changes(client_in, pop_site):
    client_in.get("/changes/")  # warm the session and content types

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client_in.get(url).status_code == 200
        return len(queries)

    urls = ("/changes/", f"/sites/{pop_site.slug}/changes/")
    few = [count(url) for url in urls]
    for device in Device.objects.filter(site=pop_site):
        for port in Interface.objects.filter(device=device):
            port_update(instance=port, description=f"link {port.pk}")
    many = [count(url) for url in urls]
    assert many == few


def test_a_device_s_changes_are_one_click_from_its_page(client_in, pop_site):
    device = Device.objects.get(name="lon-01-er1")
    port = Interface.objects.filter(device=device, mgmt_only=False).first()
    port_update(instance=port, mtu=9100)
    device_update(instance=Device.objects.get(name="lon-01-er2"), serial="OTHER-1")
    device_update(instance=device, name="lon-01-er9")

    page = client_in.get(f"/sites/{pop_site.slug}/devices/{device.pk}/").content.decode()
    link = re.search(r'href="([^"]+)" data-link="changes"', page).group(1)
    assert link == f"/sites/{pop_site.slug}/changes/?device=lon-01-er9"
    rows = _rows(client_in.get(link))
    text = "\n".join(rows)
    assert "→ 9100" in text and "→ lon-01-er9" in text
    assert "OTHER-1" not in text and "lon-01-er2" not in text
    # its rows from before the rename, and a deleted device's, are found by the name they had
    assert any('data-action="create"' in row and ">lon-01-er1<" in row for row in rows)
    device_delete(instance=Device.objects.get(name="lon-01-er2"))
    gone = _rows(client_in.get(f"/sites/{pop_site.slug}/changes/?device=lon-01-er2"))
    assert any('data-action="delete"' in row and 'data-kind="device"' in row for row in gone)
    assert "OTHER-1" in "\n".join(gone)


def test_a_site_shows_the_cables_of_its_ports(client_in, pop_site, other_site):
    from turnup.dcim.models import Cable
    from turnup.dcim.services import cable_update

    cable = Cable.objects.filter(interfaces__device__site=pop_site).first()
    cable_update(instance=cable, label="LBL-LON")
    elsewhere = Cable.objects.filter(interfaces__device__site=other_site).first()
    cable_update(instance=elsewhere, label="LBL-PAR")
    text = "\n".join(_rows(client_in.get(f"/sites/{pop_site.slug}/changes/?kind=cable")))
    assert "LBL-LON" in text and "LBL-PAR" not in text


def test_odd_values_in_the_log_fail_no_page(client_in, pop_site):
    """A snapshot is JSON: a row written by another tool may hold anything under a key the
    pages read. Such a row matches nothing and names no device; no page fails."""
    from django.contrib.contenttypes.models import ContentType

    from turnup.core.models import ObjectChange
    from turnup.dcim.models import Rack

    rack = ContentType.objects.get_for_model(Rack)
    for odd in ("abc", 1.5, True, "", [1], {"a": 1}):
        data = {"site_id": odd, "device_id": odd, "interface_id": odd, "cable_id": odd}
        ObjectChange.objects.create(
            action="update", changed_object_type=rack, changed_object_id=1,
            object_repr=f"odd {odd!r}", prechange_data=data, postchange_data=data,
        )  # fmt: skip
    site_rows = _rows(client_in.get(f"/sites/{pop_site.slug}/changes/"))
    assert site_rows and not any("odd " in row for row in site_rows)
    everything = "\n".join(_rows(client_in.get("/changes/")))
    assert everything.count("odd ") == 6
    assert len(_rows(client_in.get(f"/sites/{pop_site.slug}/changes/?device=lon-01-er1"))) > 0
