"""Odd or hostile input to the pages: a clear answer in the page (or a 4xx), never a server
error, an open redirect or a request that never ends."""

from __future__ import annotations

import json

import pytest
import yaml
from django.test import Client

from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_create
from turnup.dcim.models import Interface, Site
from turnup.provisioning.models import Run

from ..factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/sites/?q=%00",
        "/sites/?region=%00",
        "/sites/?status=%00",
        "/sites/?status=nosuch",
        "/runs/?status=%00",
        "/runs/?status=nosuch",
        "/ipam/?q=%00&vrf=%00&site=%00",
    ],
)
def test_list_filters_with_nul_or_unknown_values_answer_200(client_in, url):
    SiteFactory(name="PAR-01", slug="par-01")
    response = client_in.get(url)
    assert response.status_code == 200


def test_an_unknown_status_filter_lists_everything(client_in):
    SiteFactory(name="PAR-01", slug="par-01")
    page = client_in.get("/sites/?status=nosuch").content.decode()
    assert "PAR-01" in page


@pytest.mark.parametrize(
    "target",
    ["http://evil.example/", "//evil.example/x", "javascript:alert(1)", "\x00", "a" * 500],
)
def test_status_change_never_redirects_off_site(client_in, pop_site, target):
    response = client_in.post(
        f"/sites/{pop_site.slug}/status/", {"to_status": "designed", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{pop_site.slug}/"


def test_status_change_goes_back_to_the_page_it_came_from(client_in, pop_site):
    back = f"/sites/{pop_site.slug}/checks/?x=1"
    response = client_in.post(
        f"/sites/{pop_site.slug}/status/", {"to_status": "designed", "next": back}
    )
    assert response["Location"] == back


@pytest.mark.parametrize("target", ["http://evil.example/", "javascript:alert(1)", "\x00"])
def test_interface_edit_keeps_next_on_this_site(client_in, pop_site, target):
    interface = Interface.objects.filter(device__site=pop_site).first()
    url = f"/sites/{pop_site.slug}/interfaces/{interface.pk}/edit/"
    page = client_in.get(url, {"next": target}).content.decode()
    assert "evil.example" not in page and "javascript:" not in page
    response = client_in.post(
        url, {"mtu": "1600", "description": "x", "enabled": "on", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{pop_site.slug}/devices/{interface.device_id}/"
    # a path of this site is kept (the addressing page links with its anchor)
    back = f"/sites/{pop_site.slug}/addressing/#if-{interface.pk}"
    response = client_in.post(url, {"mtu": "1700", "description": "x", "next": back})
    assert response["Location"] == back


def test_site_pages_render_for_a_status_outside_the_lifecycle(client_in, pop_site):
    Site.objects.filter(pk=pop_site.pk).update(status="retired")  # a row written by hand
    for tab in ("", "checks/", "runs/"):
        assert client_in.get(f"/sites/{pop_site.slug}/{tab}").status_code == 200, tab


def test_run_state_answers_json_when_it_cannot_answer_the_board(client_in, pop_site):
    run = Run.objects.create(site=pop_site, status="running")
    url = f"/sites/{pop_site.slug}/runs/{run.pk}/state.json"
    anonymous = Client().get(url)
    assert anonymous.status_code == 401
    assert "log in again" in json.loads(anonymous.content)["message"]
    missing = client_in.get(f"/sites/{pop_site.slug}/runs/{run.pk + 1000}/state.json")
    assert missing.status_code == 404 and "No turn-up" in json.loads(missing.content)["message"]
    assert client_in.get(url).status_code == 200
    board = client_in.get(f"/sites/{pop_site.slug}/runs/{run.pk}/").content.decode()
    assert 'id="board-stopped"' in board


def test_allocate_a_child_prefix_from_a_single_address(client_in, db):
    from turnup.ipam.services import prefix_create

    host = prefix_create(prefix="192.0.2.7/32")
    url = f"/ipam/prefixes/{host.pk}/"
    assert "holds no child prefix" in client_in.get(url).content.decode()
    page = client_in.post(url, {"kind": "prefix", "prefix_length": "33", "count": "1"})
    assert page.status_code == 200
    assert "192.0.2.7/32 is a single address" in page.content.decode()


def test_allocate_with_a_length_out_of_range_gives_one_reason(client_in, db):
    from turnup.ipam.services import prefix_create

    pool = prefix_create(prefix="2001:db8::/32", is_pool=True)
    page = client_in.post(
        f"/ipam/prefixes/{pool.pk}/", {"kind": "prefix", "prefix_length": "129", "count": "1"}
    ).content.decode()
    assert "less than or equal to 128" in page
    assert "Give the length of the child prefix" not in page


def _blueprint_with(name: str, spec: dict) -> str:
    document = yaml.safe_load(blueprint_get(name="branch-dual").source)
    document["name"] = name
    document["parameters"]["extra"] = spec
    blueprint_create(source=yaml.safe_dump(document))
    return f"/blueprints/{name}/"


@pytest.mark.parametrize(
    "spec, value, reason",
    [
        # an escaped $ at the end (the form used to strip it and build a broken expression)
        ({"type": "string", "pattern": r"^[0-9]+\$$", "default": "1$"}, "12", "Must match"),
        # a pattern of the blueprints' regex engine that Python's re cannot compile
        ({"type": "string", "pattern": r"^\p{L}+$", "default": "abc"}, "a1", "Must match"),
        # a pattern that backtracks without end on this value
        (
            {"type": "string", "pattern": r"^(a|aa)+$", "default": "aa"},
            "a" * 40 + "!",
            "backtracks",
        ),
    ],
)
def test_wizard_checks_patterns_like_the_blueprint_service(client_in, spec, value, reason):
    url = _blueprint_with("odd-pattern", spec)
    page = client_in.post(url, {"p-name": "FZZ-01", "p-extra": value, "action": "plan"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-error-for="extra"' in html and reason in html
    ok = client_in.post(url, {"p-name": "FZZ-01", "p-extra": spec["default"], "action": "plan"})
    assert ok.status_code == 200 and 'data-error-for="extra"' not in ok.content.decode()


def test_wizard_accepts_a_string_default_longer_than_100_characters(client_in):
    default = "x" * 150
    url = _blueprint_with("long-default", {"type": "string", "default": default})
    page = client_in.post(url, {"p-name": "FZZ-01", "p-extra": default, "action": "plan"})
    assert page.status_code == 200 and 'data-error-for="extra"' not in page.content.decode()
