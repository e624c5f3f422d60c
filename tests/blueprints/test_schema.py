"""The blueprint format: shape, cross-references, parameters and expansion (no database)."""

from pathlib import Path

import pytest
import yaml

from turnup.blueprints.design import (
    BlueprintInvalid,
    condition_holds,
    design_build,
    document_load,
    params_resolve,
)
from turnup.blueprints.schema import validate_document

LIBRARY = Path(__file__).resolve().parents[2] / "turnup" / "blueprints" / "library"
SHIPPED = ("pop-core", "branch-dual", "aggregation")

MINIMAL = """
name: tiny
version: 1
parameters:
  name: {type: string}
  count: {type: integer, default: 2, minimum: 1}
  mesh: {type: boolean, default: false}
slots:
  - name: core
    count: 2
    name_pattern: "{site_lower}-cr{n}"
    role: core
    device_type: juniper-mx204
    platform: juniper_junos
    links:
      - {index: 1, peer: core-2, interface: et-0/0/0, peer_interface: et-0/0/0}
  - name: edge
    count: "{count}"
    name_pattern: "{site_lower}-er{n}"
    role: edge
    device_type: cisco-isr4431
    platform: cisco_iosxe
    links:
      - {peer: "core-{n}", kind: 1000base-t, peer_kind: 10gbase-x-sfpp, when: "not mesh"}
      - {peer: core, kind: 1000base-t, peer_kind: 10gbase-x-sfpp, when: mesh}
"""


def doc(**changes):
    document = yaml.safe_load(MINIMAL)
    for path, value in changes.items():
        target = document
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return document


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_blueprints_are_valid(name):
    document = document_load((LIBRARY / f"{name}.yaml").read_text())
    assert document["name"] == name
    design = design_build(document, params_resolve(document, {"name": "LON-01"}))
    assert design.devices and design.console and design.console.devices
    assert all(d.name.startswith("lon-01-") for d in design.devices)


def test_minimal_document_is_valid():
    assert validate_document(yaml.safe_load(MINIMAL)) == []


def test_peer_naming_a_missing_device_gives_path_and_reason():
    errors = validate_document(doc(slots__0__links__0__peer="core-3"))
    assert errors == ['slots[0].links[0].peer: no slot named "core-3"']
    errors = validate_document(doc(slots__1__links__1__peer="agg"))
    assert errors == ['slots[1].links[1].peer: no slot named "agg"']


def test_schema_errors_name_the_path():
    document = doc(slots__1__role=5)
    document["slots"][0]["colour"] = "red"
    del document["slots"][1]["platform"]
    errors = validate_document(document)
    assert "slots[0]: unknown key 'colour'" in errors
    assert "slots[1]: missing required key 'platform'" in errors
    assert "slots[1].role: 5 is not of type 'string'" in errors


def test_cross_reference_errors():
    document = yaml.safe_load(MINIMAL)
    document["addressing"] = {"p2p": {"pool": "nowhere"}}
    document["console"] = {"server": "cs"}
    document["routing"] = {"ospf": {"slots": ["core", "spine"]}}
    document["slots"][0]["links"][0]["kind"] = "1000base-t"
    document["slots"][1]["when"] = "unknown_param"
    errors = validate_document(document)
    assert 'addressing.p2p.pool: no pool named "nowhere"' in errors
    assert 'console.server: no slot named "cs"' in errors
    assert 'routing.ospf.slots[1]: no slot named "spine"' in errors
    assert "slots[0].links[0]: give exactly one of interface or kind" in errors
    assert 'slots[1].when: no parameter named "unknown_param"' in errors


def test_yaml_syntax_error_gives_line():
    with pytest.raises(BlueprintInvalid) as error:
        document_load("name: x\nslots: [\n")
    assert error.value.errors[0].startswith("line ")


def test_params_are_coerced_and_checked():
    document = yaml.safe_load(MINIMAL)
    values = params_resolve(document, {"name": "X-1", "count": "3", "mesh": "yes"})
    assert values == {"name": "X-1", "count": 3, "mesh": True}
    with pytest.raises(BlueprintInvalid) as error:
        params_resolve(document, {"count": "0", "mesh": "perhaps", "colour": "red"})
    assert set(error.value.errors) == {
        'params.colour: no parameter named "colour"',
        "params.count: 0 is below the minimum 1",
        "params.mesh: 'perhaps' is not a boolean (true/false)",
        "params.name: required",
    }


def test_conditions():
    params = {"topology": "square", "mgmt": False, "n": 3}
    assert condition_holds("topology == 'square'", params)
    assert not condition_holds("topology != 'square'", params)
    assert condition_holds("not mgmt", params)
    assert condition_holds("n == 3", params)
    assert condition_holds(None, params)


def test_expansion_of_counts_links_and_conditions():
    document = yaml.safe_load(MINIMAL)
    square = design_build(document, params_resolve(document, {"name": "LON-01"}))
    assert square.device_names == ["lon-01-cr1", "lon-01-cr2", "lon-01-er1", "lon-01-er2"]
    assert [(link.a.device, link.b.device) for link in square.links] == [
        ("lon-01-cr1", "lon-01-cr2"),
        ("lon-01-er1", "lon-01-cr1"),
        ("lon-01-er2", "lon-01-cr2"),
    ]
    mesh = design_build(document, params_resolve(document, {"name": "LON-01", "mesh": True}))
    assert len(mesh.links) == 5


def test_a_peer_by_index_that_does_not_exist_is_an_error():
    document = yaml.safe_load(MINIMAL)
    with pytest.raises(BlueprintInvalid) as error:
        design_build(document, params_resolve(document, {"name": "LON-01", "count": 3}))
    assert 'lon-01-er3 has no peer "core-3"' in error.value.errors[0]


def test_aggregation_scales_with_edge_count():
    document = document_load((LIBRARY / "aggregation.yaml").read_text())
    design = design_build(document, params_resolve(document, {"name": "FRA-02", "edge_count": 40}))
    assert len([d for d in design.devices if d.slot == "edge"]) == 40
    assert design.devices[2].name == "fra-02-er01"
    ebgp = [s for s in design.sessions if s.kind == "ebgp"]
    assert len(ebgp) == 80
    assert len(design.links) == 82


def test_variables_are_filled_from_parameters():
    document = document_load((LIBRARY / "pop-core.yaml").read_text())
    design = design_build(document, params_resolve(document, {"name": "LON-01"}))
    assert design.variables["domain_name"] == "lon-01.pop.example.net"
    assert design.variables["upstream_asn"] == 64496
    assert design.pools["mgmt-lab"]["prefix"] == "127.77.0.0/16"
