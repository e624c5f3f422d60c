"""Whole-site design documents: export, import (all or nothing, errors by line), API, CLI."""

import pytest
import yaml
from django.db import connection, transaction
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


# -- malformed documents: a 400 naming the path and the reason, nothing written ---------------


def counts() -> tuple[int, ...]:
    return (
        Site.objects.count(),
        Device.objects.count(),
        Cable.objects.count(),
        Prefix.objects.count(),
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not UTF-8 text: byte 0xff at offset 0"),
        (b"", "the document is empty"),
        (
            b"kind: turnup/site-design/v1\nsite: {name: 'FZ\x00'}\n",
            "character #x0000 is not allowed",
        ),
        (b"[" * 5000, "nested too deeply"),
        (b"a: &a [*a]\n", "an alias refers to the list or mapping it is part of"),
    ],
)
def test_api_body_that_is_not_a_yaml_document_is_400(api_client, body, reason):
    response = api_client.post("/api/designs/", body, content_type="application/yaml")
    assert response.status_code == 400, response.content
    error = response.json()["extra"]["errors"][0]
    assert error["path"] == "(document)"
    assert reason in error["reason"]
    assert reason in response.json()["message"]


def test_aliases_that_expand_to_billions_of_values_are_refused_at_once():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    errors, error = error_lines("\n".join(lines) + "\n")
    assert "once its aliases are expanded" in error.message


def test_a_nul_character_names_its_line_and_column():
    errors, error = error_lines("kind: turnup/site-design/v1\nsite: {name: 'FZ\x00'}\n")
    assert errors == [(2, "(document)")]
    assert error.extra["errors"][0]["column"] == 17


WRONG_TYPES = [
    (("devices", 0, "role"), [], "devices[0].role", "expected a name, got a list"),
    (("devices", 0, "role"), {}, "devices[0].role", "expected a name, got a mapping"),
    (("devices", 0, "device_type"), [], "devices[0].device_type", "expected a name, got a list"),
    (("devices", 0, "platform"), {}, "devices[0].platform", "expected a name, got a mapping"),
    (("devices", 0, "interfaces"), 5, "devices[0].interfaces", "expected a list, got an integer"),
    (("devices", 0, "console_ports"), 5, "devices[0].console_ports", "expected a list, got an"),
    (("cables", 0, "a", "device"), [], "cables[0].a.device", "expected a name, got a list"),
    (("cables", 2, "a", "interface"), [], "cables[2].a.interface", "expected a name, got a list"),
    (("prefixes", 0, "vrf"), [], "prefixes[0].vrf", "expected a name, got a list"),
    (("site", "region"), None, "site.region", "expected text, got null"),
    (("site", "bogus"), 1, "site.bogus", "unknown key"),
    (("devices", 0, "position"), "ten", "devices[0].position", "expected an integer, got text"),
    (("devices", 0, "name"), 1001, "devices[0].name", "expected text, got an integer"),
    (("ip_addresses", 0, "device"), {}, "ip_addresses[0].device", "expected a name, got a mapping"),
    (("racks", 0), "R1", "racks[0]", "expected a mapping, got text"),
]


@pytest.mark.parametrize(("path", "value", "where", "reason"), WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_reported_at_its_path(api_client, path, value, where, reason):
    document = renamed(site_document_export(site=build_site()), "TYPE-01", "10.8.")
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    before = counts()
    response = api_client.post(
        "/api/designs/", yaml.safe_dump(document, sort_keys=False), content_type="application/yaml"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["extra"]["errors"]
    assert [(e["path"], e["reason"][: len(reason)]) for e in errors] == [(where, reason)]
    assert errors[0]["line"] is not None
    assert counts() == before


def _paths(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:1]):
            yield (*path, index)
            yield from _paths(item, (*path, index))


def test_no_value_of_any_type_anywhere_in_a_document_crashes_the_import():
    """Every key of the document (the first item of each list) set to a list, a mapping and
    null: each import either succeeds or answers an ApplicationError — and a refused one
    leaves nothing behind."""
    base = renamed(site_document_export(site=build_site()), "SWEEP-01", "10.9.")
    before = counts()
    refused = 0
    for path in _paths(base):
        for value in ([], {}, None):
            document = yaml.safe_load(yaml.safe_dump(base))
            target = document
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
            with transaction.atomic():
                try:
                    site_document_import(text=yaml.safe_dump(document))
                except ApplicationError:
                    refused += 1
                    assert counts() == before, (path, value)
                transaction.set_rollback(True)  # an accepted one (cables: []) is undone
    assert refused > 100
