"""Whole-site design documents: export, import (all or nothing, errors by line), API, CLI."""

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import IPAddressFactory, PrefixFactory, RackFactory, dcim_console_site
from turnup.core.errors import ApplicationError
from turnup.dcim import services as dcim_services
from turnup.dcim.models import Cable, Device, Site
from turnup.designs.selectors import site_document_export
from turnup.designs.services import site_document_import
from turnup.ipam.models import IPAddress, Prefix

pytestmark = pytest.mark.django_db


def build_site(routers: int = 2, net: str = "10.1."):
    site, server, devices = dcim_console_site(routers=routers)
    rack = RackFactory(site=site, name="R1", u_height=42)
    dcim_services.device_update(instance=devices[0], rack=rack, position=10, face="front")
    first, second = (d.interfaces.get(name="Gi0/0/0") for d in devices[:2])
    dcim_services.cable_create(a_end=first, b_end=second, status="planned")
    PrefixFactory(prefix=f"{net}0.0/31", site=site)
    IPAddressFactory(address=f"{net}0.0/31", assigned_interface=first)
    IPAddressFactory(address=f"{net}0.1/31", assigned_interface=second)
    return site


def renamed(document: dict, name: str, prefix: str) -> dict:
    document = yaml.safe_load(yaml.safe_dump(document))
    document["site"].update(name=name, slug=name.lower())
    for item in document["prefixes"]:
        item["prefix"] = item["prefix"].replace("10.1.", prefix)
    for item in document["ip_addresses"]:
        item["address"] = item["address"].replace("10.1.", prefix)
    return document


def test_export_then_import_recreates_the_same_design():
    original = site_document_export(site=build_site())
    assert original["cables"][0]["a"]["device"] == "rtr1"
    assert {c.get("status") for c in original["cables"]} == {"connected", "planned"}
    text = yaml.safe_dump(renamed(original, "COPY-01", "10.2."), sort_keys=False)

    copy = site_document_import(text=text)

    assert copy.devices.count() == 3
    exported = site_document_export(site=copy)
    assert exported == renamed(original, "COPY-01", "10.2.")
    assert IPAddress.objects.filter(device__site=copy).count() == 2


def test_export_costs_the_same_queries_for_3_and_12_devices():
    def queries(site):
        with CaptureQueriesContext(connection) as ctx:
            site_document_export(site=site)
        return len(ctx.captured_queries)

    small = queries(build_site(routers=2))
    assert queries(build_site(routers=11, net="10.9.")) == small


def error_lines(text: str) -> list[tuple]:
    with pytest.raises(ApplicationError) as caught:
        site_document_import(text=text)
    return [(e["line"], e["path"]) for e in caught.value.extra["errors"]], caught.value


def test_unknown_device_type_is_reported_at_its_line():
    document = site_document_export(site=build_site())
    document = renamed(document, "BAD-01", "10.3.")
    document["devices"][1]["device_type"] = "no-such-type"
    text = yaml.safe_dump(document, sort_keys=False)
    expected_line = next(n for n, line in enumerate(text.splitlines(), 1) if "no-such-type" in line)
    errors, error = error_lines(text)
    assert errors == [(expected_line, "devices[1].device_type")]
    assert "no device_type 'no-such-type'" in error.message
    assert not Site.objects.filter(name="BAD-01").exists()


def test_a_failure_late_in_the_import_leaves_nothing_behind():
    document = renamed(site_document_export(site=build_site()), "HALF-01", "10.4.")
    document["cables"].append(dict(document["cables"][0]))  # the same ends cabled twice
    text = yaml.safe_dump(document, sort_keys=False)
    before = (Site.objects.count(), Device.objects.count(), Cable.objects.count())
    errors, _ = error_lines(text)
    assert errors[0][1].startswith(f"cables[{len(document['cables']) - 1}]")
    assert errors[0][0] > text.splitlines().index("cables:")
    assert (Site.objects.count(), Device.objects.count(), Cable.objects.count()) == before
    assert not Prefix.objects.filter(prefix__startswith="10.4.").exists()


def test_cable_to_a_missing_port_names_it():
    document = renamed(site_document_export(site=build_site()), "MISS-01", "10.5.")
    document["cables"][0]["a"] = {"device": "rtr1", "interface": "Gi9/9/9"}
    errors, error = error_lines(yaml.safe_dump(document, sort_keys=False))
    assert errors[0][1] == "cables[0].a.interface"
    assert "rtr1 has no interface 'Gi9/9/9'" in error.message


def test_not_yaml_gives_the_line():
    errors, error = error_lines("kind: turnup/site-design/v1\nsite: {name: [unclosed\n")
    assert errors[0][0] in (2, 3)
    assert "not valid YAML" in error.message


def test_api_round_trip(api_client):
    site = build_site()
    response = api_client.get(f"/api/designs/{site.slug}/", HTTP_ACCEPT="application/yaml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    document = renamed(yaml.safe_load(response.content), "API-01", "10.6.")
    body = yaml.safe_dump(document)
    created = api_client.post("/api/designs/", body, content_type="application/yaml")
    assert created.status_code == 201, created.content
    assert Site.objects.get(slug="api-01").devices.count() == 3

    again = api_client.post("/api/designs/", body, content_type="application/yaml")
    assert again.status_code == 400
    assert again.json()["extra"]["errors"][0]["path"].startswith("site")
