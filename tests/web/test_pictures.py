"""The topology and rack pictures are pure functions of plain data: tested without the DB."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from turnup.web.elevation import RackData, RackDevice, rack_svg
from turnup.web.topology import (
    NODE_H,
    NODE_W,
    TopoLink,
    TopoNode,
    natural_key,
    topology_layout,
    topology_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def hub_site(edges: int) -> tuple[list[TopoNode], list[TopoLink]]:
    nodes = [
        TopoNode(1, "S-core-1", "core", "juniper_junos", mgmt="10.0.0.1"),
        TopoNode(2, "S-core-2", "core", "juniper_junos", mgmt="10.0.0.2"),
        TopoNode(900, "S-cs-1", "console-server", "console_server"),
    ]
    links = [TopoLink(1, 2, "xe-0/0/0", "xe-0/0/0", "10.1.0.0/31")]
    for i in range(edges):
        node_id = 10 + i
        nodes.append(TopoNode(node_id, f"S-edge-{i + 1}", "edge", "cisco_iosxe"))
        for core in (1, 2):
            links.append(
                TopoLink(
                    core, node_id, f"xe-0/0/{i + 1}", f"Gi0/0/{core - 1}", f"10.1.{i}.{core}/31"
                )
            )
        links.append(TopoLink(node_id, 900, "con0", f"line {i + 1}", kind="console"))
    return nodes, links


def boxes_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < NODE_W and abs(a[1] - b[1]) < NODE_H


def test_small_site_is_layered_by_role_with_console_server_aside():
    nodes, links = hub_site(2)
    layout = topology_layout(nodes, links)
    pos = layout.positions
    assert pos[1][1] == pos[2][1]  # cores share the top row
    assert pos[10][1] > pos[1][1]  # edges below
    assert pos[900][0] > max(pos[n][0] for n in (1, 2, 10, 11))  # console server to the right
    assert 0 < min(x for x, _ in pos.values()) - NODE_W / 2
    assert max(x for x, _ in pos.values()) + NODE_W / 2 <= layout.width


def test_fifty_device_site_has_no_overlapping_nodes_and_fits_its_canvas():
    nodes, links = hub_site(47)
    layout = topology_layout(nodes, links)
    placed = list(layout.positions.items())
    assert len(placed) == 50
    for i, (ida, a) in enumerate(placed):
        for idb, b in placed[i + 1 :]:
            assert not boxes_overlap(a, b), (ida, idb, a, b)
        assert NODE_W / 2 <= a[0] <= layout.width - NODE_W / 2
        assert NODE_H / 2 <= a[1] <= layout.height - NODE_H / 2
    # the cores sit in the middle of the ring of edges
    cx = sum(layout.positions[i][0] for i in (1, 2)) / 2
    ring = [layout.positions[10 + i] for i in range(47)]
    distances = [math.dist((cx, layout.positions[1][1]), p) for p in ring]
    assert min(distances) > 250


def test_layout_is_deterministic_whatever_the_input_order():
    nodes, links = hub_site(20)
    first = topology_svg(nodes, links)
    assert topology_svg(list(reversed(nodes)), list(reversed(links))) == first


def test_svg_is_well_formed_and_labels_links_with_interfaces_and_subnets():
    nodes, links = hub_site(2)
    svg = topology_svg(nodes, links)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "S-edge-1" in texts and "S-core-2" in texts
    assert "Gi0/0/0" in texts  # an interface at its end
    assert any("10.1.0.1/31" in (t or "") for t in texts)  # a subnet
    assert any("con S-cs-1 line 1" in (t or "") for t in texts)  # console line in the node
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "S-core-1 xe-0/0/1 ↔ S-edge-1 Gi0/0/0 · 10.1.0.1/31" in titles


def test_cables_show_what_lldp_saw_at_turn_up():
    nodes, links = hub_site(1)
    links = [
        TopoLink(1, 10, "xe-0/0/1", "Gi0/0/0", lldp="as designed"),
        TopoLink(2, 10, "xe-0/0/1", "Gi0/0/1", lldp="otherwise"),
        TopoLink(1, 2, "xe-0/0/0", "xe-0/0/0"),  # no turn-up yet
    ]
    root = ET.fromstring(topology_svg(nodes, links))
    drawn = {
        el.find(f"{SVG}title").text: el.get("class")
        for el in root.iter()
        if el.tag in (f"{SVG}line", f"{SVG}path") and el.find(f"{SVG}title") is not None
    }
    assert drawn == {
        "S-core-1 xe-0/0/1 ↔ S-edge-1 Gi0/0/0 · LLDP at turn-up: cabled as designed": (
            "link planned lldp-as-designed"
        ),
        "S-core-2 xe-0/0/1 ↔ S-edge-1 Gi0/0/1 · LLDP at turn-up: cabled otherwise than designed": (
            "link planned lldp-otherwise"
        ),
        "S-core-1 xe-0/0/0 ↔ S-core-2 xe-0/0/0": "link planned",
    }


def test_names_are_escaped():
    nodes = [TopoNode(1, "<script>", "core"), TopoNode(2, "a&b", "edge")]
    svg = topology_svg(nodes, [TopoLink(1, 2, "x<1>", "y")])
    ET.fromstring(svg)
    assert "<script>" not in svg


def test_natural_order():
    names = ["e-10", "e-2", "e-1"]
    assert sorted(names, key=natural_key) == ["e-1", "e-2", "e-10"]


def test_empty_site_draws_an_empty_picture():
    root = ET.fromstring(topology_svg([], []))
    assert root.tag == f"{SVG}svg"


def test_rack_elevation_places_units_bottom_up_and_shows_full_depth_on_both_faces():
    rack = RackData(
        "R1",
        10,
        (
            RackDevice("core-1", 9, 2, "front", True, "core", "1565c0", "MX204"),
            RackDevice("cs-1", 1, 1, "rear", False, "console", "757575", "CM8100"),
        ),
    )
    root = ET.fromstring(rack_svg(rack))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("data-name")]
    names = [(g.get("data-name"), g.get("class")) for g in groups]
    assert names.count(("core-1", "dev")) == 1
    assert names.count(("core-1", "dev back")) == 1  # full depth: seen from the rear too
    assert ("cs-1", "dev") in names and ("cs-1", "dev back") not in names  # half depth
    core_top = next(g for g in groups if g.get("data-name") == "core-1")
    cs = next(g for g in groups if g.get("data-name") == "cs-1")
    y_core = float(core_top.find(f"{SVG}rect").get("y"))
    y_cs = float(cs.find(f"{SVG}rect").get("y"))
    assert y_core < y_cs  # U9 is drawn above U1
    assert "3 of 10U used" in root.get("aria-label")


def test_side_by_side_diff_pairs_changes_and_folds_unchanged_runs():
    from turnup.web.diff import diff_stats, side_by_side

    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 10", "line ten").replace("line 20", "line 20\nline 21")
    rows = side_by_side(old, new, context=2)
    kinds = [r.kind for r in rows]
    assert kinds[0] == "skip" and "7 unchanged" in rows[0].left_text
    changed = next(r for r in rows if r.kind == "replace")
    assert (changed.left_no, changed.left_text, changed.right_text) == (10, "line 10", "line ten")
    inserted = next(r for r in rows if r.kind == "insert")
    assert inserted.left_no is None and inserted.right_text == "line 21"
    assert diff_stats(rows) == {"added": 2, "removed": 1}
    same = side_by_side("a\nb\nc", "a\nb\nc")
    assert [r.kind for r in same] == ["skip"] and diff_stats(same) == {"added": 0, "removed": 0}
