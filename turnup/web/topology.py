"""The topology picture of a site: a deterministic layout and its SVG, from plain data.

No database and no Django here: ``web.selectors.site_topology`` turns a site into
``TopoNode``/``TopoLink`` lists, ``topology_layout`` places the nodes and ``topology_svg``
draws them. Same input, same picture (ties are broken by name, never by hash order).

Layout: routers are layered by role (core on top, then aggregation/distribution, then
edge/branch, then anything else); console servers stand in a column on the right. Within a
layer, a few barycentre sweeps order the nodes to cut link crossings. Console cables are not
drawn as lines (fifty dashed lines hide the data links); each router names its console
server and line instead, and the console map table has the whole path. A layer wider than
``MAX_ROW`` nodes is drawn as an arc under the layer above it instead of a straight row, so
a 50-router site stays readable: its links fan out radially and never run through a node.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape

from turnup.provisioning.drivers.base import CABLE_NOT_SEEN, CABLED_AS_DESIGNED, CABLED_OTHERWISE

NODE_W = 156
NODE_H = 46
GAP_X = 44
GAP_Y = 140
MARGIN = 30
MAX_ROW = 12
CURVE_ROOM = 34  # room above a row for the arcs of links inside the row
# Rings (a layer wider than MAX_ROW): px along the ring between neighbours, ring spacing,
# and where along a spoke the labels of the ring nodes start.
RING_TANGENT = NODE_W / 2 + 10
RING_STEP = 130
RING_LABEL_BASE = 26
PLATFORM_SHORT = {"cisco_iosxe": "IOS-XE", "juniper_junos": "Junos", "console_server": "console"}
# Label an interface at a node's end only when the node has at most this many links;
# a hub's own interface names go into the label at the far end instead.
END_LABEL_MAX_DEGREE = 8

ROLE_RANK = {
    "core": 0,
    "spine": 0,
    "p": 0,
    "aggregation": 1,
    "distribution": 1,
    "agg": 1,
    "edge": 2,
    "pe": 2,
    "branch": 2,
    "leaf": 2,
    "access": 3,
    "management-switch": 3,
    "switch": 3,
}
CONSOLE_ROLES = {"console-server", "console_server", "consoleserver", "console"}
DEFAULT_RANK = 3


@dataclass(frozen=True)
class TopoNode:
    """A device in the picture."""

    id: int
    name: str
    role: str = ""
    platform: str = ""
    status: str = ""
    color: str = "9e9e9e"
    mgmt: str = ""  # management address, shown under the name
    url: str = ""


@dataclass(frozen=True)
class TopoLink:
    """A cable between two devices; ``kind`` is "data" or "console"."""

    a: int
    b: int
    a_iface: str = ""
    b_iface: str = ""
    subnet: str = ""
    kind: str = "data"
    status: str = "planned"
    lldp: str = ""  # the latest turn-up's verdict: CABLED_AS_DESIGNED, CABLE_NOT_SEEN, …


@dataclass
class Layout:
    """Node centres and the canvas size."""

    positions: dict[int, tuple[float, float]] = field(default_factory=dict)
    label_distance: dict[int, float] = field(default_factory=dict)
    width: float = 0
    height: float = 0


IFACE_SHORT = (
    ("HundredGigE", "Hu"),
    ("FortyGigabitEthernet", "Fo"),
    ("TwentyFiveGigE", "Twe"),
    ("TenGigabitEthernet", "Te"),
    ("GigabitEthernet", "Gi"),
    ("FastEthernet", "Fa"),
    ("Ethernet", "Eth"),
)


def short_iface(name: str) -> str:
    """``TenGigabitEthernet0/0/4`` -> ``Te0/0/4``: the names engineers type (labels only; the
    tooltips keep the full name)."""
    for long, short in IFACE_SHORT:
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def natural_key(text: str) -> tuple:
    """``edge-2`` before ``edge-10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _is_console(node: TopoNode) -> bool:
    return node.role.lower() in CONSOLE_ROLES or node.platform == "console_server"


def _rank(node: TopoNode) -> int:
    return ROLE_RANK.get(node.role.lower(), DEFAULT_RANK)


def _order_layers(
    layers: list[list[TopoNode]], links: list[TopoLink], sweeps: int = 4
) -> list[list[TopoNode]]:
    """Barycentre ordering: each node moves toward the mean position of its neighbours in the
    layer above (then below), ties by name. Deterministic."""
    neighbours: dict[int, list[int]] = {}
    for link in links:
        if link.kind != "data":
            continue
        neighbours.setdefault(link.a, []).append(link.b)
        neighbours.setdefault(link.b, []).append(link.a)
    layers = [sorted(layer, key=lambda n: natural_key(n.name)) for layer in layers]

    def index_of(layer: list[TopoNode]) -> dict[int, float]:
        count = max(len(layer) - 1, 1)
        return {n.id: i / count for i, n in enumerate(layer)}

    for sweep in range(sweeps):
        order = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        for li in order:
            ref = index_of(layers[li - 1] if sweep % 2 == 0 else layers[li + 1])
            current = index_of(layers[li])

            def key(node: TopoNode, ref=ref, current=current) -> tuple:
                values = [ref[p] for p in neighbours.get(node.id, []) if p in ref]
                centre = sum(values) / len(values) if values else current[node.id]
                return (round(centre, 6), natural_key(node.name))

            layers[li] = sorted(layers[li], key=key)
    return layers


def _ring_layout(
    layer: list[TopoNode], centre: tuple[float, float], layout: Layout
) -> tuple[float, float]:
    """A big layer on two concentric rings around ``centre`` (the layer above), alternating
    rings so that every spoke runs between the nodes of the inner ring. Returns the outer
    radius and the y of the ring's bottom."""
    count = len(layer)
    delta = 2 * math.pi / count
    cx, cy = centre
    r_in = max(RING_TANGENT / delta, 260.0)
    while True:  # grow the ring until no two boxes touch (a few rounds at most)
        r_out = r_in + RING_STEP
        placed = []
        for i in range(count):
            angle = -math.pi / 2 + delta * i  # from the top, clockwise
            r = r_out if i % 2 else r_in
            placed.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
        clash = any(
            abs(a[0] - b[0]) < NODE_W + 6 and abs(a[1] - b[1]) < NODE_H + 6
            for i, a in enumerate(placed)
            for b in placed[i + 1 : i + 3]
        ) or (
            count > 2
            and abs(placed[0][0] - placed[-1][0]) < NODE_W + 6
            and abs(placed[0][1] - placed[-1][1]) < NODE_H + 6
        )
        if not clash:
            break
        r_in *= 1.05
    for i, node in enumerate(layer):
        layout.positions[node.id] = placed[i]
        # where this node's end labels go, in px along the link from the node's border
        layout.label_distance[node.id] = (
            RING_LABEL_BASE + RING_STEP + 110 if i % 2 else RING_LABEL_BASE
        )
    return r_out, cy + r_out


def topology_layout(nodes: list[TopoNode], links: list[TopoLink]) -> Layout:
    """Place every node; see the module docstring for the rules."""
    routers = [n for n in nodes if not _is_console(n)]
    consoles = sorted((n for n in nodes if _is_console(n)), key=lambda n: natural_key(n.name))
    ranks = sorted({_rank(n) for n in routers})
    layers = [[n for n in routers if _rank(n) == r] for r in ranks]
    layers = _order_layers(layers, links)

    step_x = NODE_W + GAP_X
    widest_row = max([len(layer) for layer in layers if len(layer) <= MAX_ROW] or [1])
    layout = Layout()
    y = MARGIN + NODE_H / 2 + CURVE_ROOM
    centre_x = MARGIN + (widest_row * step_x - GAP_X) / 2
    big = [i for i, layer in enumerate(layers) if len(layer) > MAX_ROW]
    if big:
        # a hub-and-spoke site: the big layer rings the layers above it, which sit in the
        # middle; layers below the ring go under it
        first = big[0]
        inner_rows = layers[:first]
        centre_x = 0.0
        y = -(len(inner_rows) - 1) * (NODE_H + 50) / 2  # normalised below
    for li, layer in enumerate(layers):
        if big and li == big[0]:
            top_ids = [n.id for lay in layers[:li] for n in lay]
            if top_ids:
                ys = [layout.positions[i][1] for i in top_ids]
                centre = (centre_x, (min(ys) + max(ys)) / 2)
            else:
                centre = (centre_x, y)
            _, bottom = _ring_layout(layer, centre, layout)
            y = bottom + NODE_H + GAP_Y
            continue
        rows = [layer[i : i + MAX_ROW] for i in range(0, len(layer), MAX_ROW)]
        for row in rows:
            row_width = len(row) * step_x - GAP_X
            x0 = centre_x - row_width / 2 + NODE_W / 2
            for i, node in enumerate(row):
                layout.positions[node.id] = (x0 + i * step_x, y)
            y += NODE_H + (50 if big and li < big[0] else GAP_Y)
    # normalise: nothing left of or above the margin
    if layout.positions:
        min_x = min(x for x, _ in layout.positions.values()) - NODE_W / 2
        min_y = min(yy for _, yy in layout.positions.values()) - NODE_H / 2 - CURVE_ROOM
        dx, dy = MARGIN - min_x, MARGIN - min_y
        layout.positions = {k: (x + dx, yy + dy) for k, (x, yy) in layout.positions.items()}
    max_x = max([x for x, _ in layout.positions.values()] or [MARGIN]) + NODE_W / 2
    max_y = max([yy for _, yy in layout.positions.values()] or [MARGIN]) + NODE_H / 2
    # console servers: a column to the right
    if consoles:
        cx = max_x + GAP_X * 3 + NODE_W / 2
        for i, node in enumerate(consoles):
            layout.positions[node.id] = (cx, MARGIN + CURVE_ROOM + NODE_H / 2 + i * (NODE_H + 40))
        max_x = cx + NODE_W / 2
        max_y = max(max_y, max(yy for _, yy in layout.positions.values()) + NODE_H / 2)
    layout.width = max_x + MARGIN
    layout.height = max_y + MARGIN + CURVE_ROOM
    return layout


def _border_point(centre: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
    """Where the segment from ``centre`` to ``towards`` leaves the node's rectangle."""
    (x, y), (tx, ty) = centre, towards
    dx, dy = tx - x, ty - y
    if dx == 0 and dy == 0:
        return centre
    scale = min(
        (NODE_W / 2) / abs(dx) if dx else math.inf,
        (NODE_H / 2) / abs(dy) if dy else math.inf,
    )
    return (x + dx * scale, y + dy * scale)


def _text(x: float, y: float, text: str, cls: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _label(x: float, y: float, lines: list[str], cls: str) -> str:
    """Text lines on a white box so they stay readable over the links."""
    lines = [line for line in lines if line]
    if not lines:
        return ""
    width = max(len(line) for line in lines) * 5.6 + 6
    height = 11 * len(lines) + 3
    parts = [
        f'<rect x="{x - width / 2:.1f}" y="{y - height / 2:.1f}" width="{width:.1f}" '
        f'height="{height}" class="lbl-bg"/>'
    ]
    for i, line in enumerate(lines):
        parts.append(_text(x, y - height / 2 + 10 + 11 * i, line, cls))
    return "".join(parts)


def _along(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _at_distance(
    a: tuple[float, float], b: tuple[float, float], distance: float
) -> tuple[float, float]:
    length = math.dist(a, b) or 1.0
    return _along(a, b, min(distance / length, 0.45))


LLDP_SAID = {
    CABLED_AS_DESIGNED: "cabled as designed",
    CABLE_NOT_SEEN: "no neighbour seen",
    CABLED_OTHERWISE: "cabled otherwise than designed",
}

STYLE = (
    "<style>"
    ".topology text{font:10px ui-monospace,SFMono-Regular,Menlo,monospace;fill:#1d2733}"
    ".topology .name{font:600 11.5px system-ui,sans-serif}"
    ".topology .sub{fill:#5c6b7a;font-size:9px}"
    ".topology .ifl{fill:#0b4f96;font-size:9px}"
    ".topology .net{fill:#7a5600;font-size:9px}"
    ".topology .lbl-bg{fill:#fff;fill-opacity:.9;stroke:#e3e8ee;stroke-width:.5}"
    ".topology .link{stroke:#7b8794;stroke-width:1.3;fill:none}"
    ".topology .link.connected{stroke:#1e8449}"
    ".topology .link.console{stroke:#a7b1bc;stroke-dasharray:4 3;stroke-width:1}"
    ".topology .link.lldp-as-designed{stroke:#1e8449;stroke-width:2.2}"
    ".topology .link.lldp-otherwise{stroke:#c0392b;stroke-width:2.4;stroke-dasharray:7 4}"
    ".topology .node rect.box{fill:#fff;stroke:#8795a5;stroke-width:1.2}"
    ".topology a:hover rect.box{stroke:#0b6bcb;stroke-width:2}"
    "</style>"
)


def topology_svg(nodes: list[TopoNode], links: list[TopoLink]) -> str:
    """The whole picture as one ``<svg>`` element (styles inside, no external CSS).

    Interface names sit at their own end of a link and the subnet in the middle; a hub (a
    node with more than END_LABEL_MAX_DEGREE links) gets no end labels: the far end's label
    carries the subnet instead. Every link has a tooltip with both ends and the subnet and,
    after a turn-up, what LLDP showed of it: a cable seen as designed is drawn green, one
    cabled otherwise red and dashed.
    """
    layout = topology_layout(nodes, links)
    pos = layout.positions
    by_id = {n.id: n for n in nodes}
    console_ids = {n.id for n in nodes if _is_console(n)}
    drawn = [k for k in links if k.a in pos and k.b in pos and k.a != k.b]
    console_links = [k for k in drawn if k.kind == "console"]
    data_links = [k for k in drawn if k.kind != "console"]
    degree: dict[int, int] = {}
    for link in data_links:
        degree[link.a] = degree.get(link.a, 0) + 1
        degree[link.b] = degree.get(link.b, 0) + 1
    lines_of: dict[int, str] = {}
    for link in console_links:
        router, iface = (link.a, link.b_iface) if link.b in console_ids else (link.b, link.a_iface)
        server = link.b if link.b in console_ids else link.a
        lines_of[router] = f"{by_id[server].name} {iface}"

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="topology" '
        f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" '
        f'width="{layout.width:.0f}" height="{layout.height:.0f}" '
        f'role="img" aria-label="Topology: {len(nodes)} devices, {len(data_links)} links">',
        STYLE,
    ]
    labels: list[str] = []
    top_row = min((y for _, y in pos.values()), default=0.0)
    pair_seen: dict[tuple[int, int], int] = {}
    end_index: dict[int, int] = {}
    for link in sorted(
        data_links, key=lambda k: (natural_key(by_id[k.a].name), natural_key(k.a_iface))
    ):
        pa, pb = pos[link.a], pos[link.b]
        pair = (min(link.a, link.b), max(link.a, link.b))
        parallel = pair_seen.get(pair, 0)
        pair_seen[pair] = parallel + 1
        title = f"{by_id[link.a].name} {link.a_iface} ↔ {by_id[link.b].name} {link.b_iface}"
        if link.subnet:
            title += f" · {link.subnet}"
        cls = f"link {escape(link.status)}"
        if link.lldp:
            title += f" · LLDP at turn-up: {LLDP_SAID[link.lldp]}"
            cls += f" lldp-{link.lldp.replace(' ', '-')}"
        same_row = abs(pa[1] - pb[1]) < 1
        if same_row or parallel:
            # an arc above the row (or beside a parallel link) keeps it off the nodes between
            (x1, y1), (x2, y2) = pa, pb
            up = not same_row or y1 <= top_row + 1
            if same_row:
                y1 += -NODE_H / 2 if up else NODE_H / 2
                y2 += -NODE_H / 2 if up else NODE_H / 2
            lift = (CURVE_ROOM - 4 + 14 * parallel) * (1 if same_row else 0.7)
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2 + (-lift * 2 if up else lift * 2)
            if not same_row:
                mx += 40 * parallel
            out.append(
                f'<path d="M{x1:.1f},{y1:.1f} Q{mx:.1f},{my:.1f} {x2:.1f},{y2:.1f}" '
                f'class="{cls}"><title>{escape(title)}</title></path>'
            )
            apex = ((x1 + 2 * mx + x2) / 4, (y1 + 2 * my + y2) / 4)
            text = f"{short_iface(link.a_iface)} — {link.subnet} — {short_iface(link.b_iface)}"
            text = text.replace("—  —", "—")
            labels.append(_label(apex[0], apex[1], [text], "ifl"))
            continue
        ea, eb = _border_point(pa, pb), _border_point(pb, pa)
        out.append(
            f'<line x1="{ea[0]:.1f}" y1="{ea[1]:.1f}" x2="{eb[0]:.1f}" y2="{eb[1]:.1f}" '
            f'class="{cls}"><title>{escape(title)}</title></line>'
        )
        hub_a = degree.get(link.a, 0) > END_LABEL_MAX_DEGREE
        hub_b = degree.get(link.b, 0) > END_LABEL_MAX_DEGREE
        if hub_a != hub_b:
            leaf, hub_end, leaf_end = (link.b, ea, eb) if hub_a else (link.a, eb, ea)
            iface = link.b_iface if hub_a else link.a_iface
            k = end_index.get(leaf, 0)
            end_index[leaf] = k + 1
            base = layout.label_distance.get(leaf, 30)
            x, y = _at_distance(leaf_end, hub_end, base + 12 + 34 * k)
            labels.append(_label(x, y, [short_iface(iface), link.subnet], "ifl"))
            continue
        if not hub_a:
            for node_id, near, far, iface in (
                (link.a, ea, eb, link.a_iface),
                (link.b, eb, ea, link.b_iface),
            ):
                k = end_index.get(node_id, 0)
                end_index[node_id] = k + 1
                labels.append(
                    _label(*_at_distance(near, far, 16 + 20 * (k % 3)), [short_iface(iface)], "ifl")
                )
        if link.subnet:
            t = 0.5 + (0.12 if len(labels) % 2 else -0.12)
            labels.append(_label(*_along(ea, eb, t), [link.subnet], "net"))
    out.extend(labels)

    for node in sorted(nodes, key=lambda n: natural_key(n.name)):
        if node.id not in pos:
            continue
        x, y = pos[node.id]
        left, top = x - NODE_W / 2, y - NODE_H / 2
        color = node.color if re.fullmatch(r"[0-9a-fA-F]{6}", node.color) else "9e9e9e"
        platform = PLATFORM_SHORT.get(node.platform, node.platform)
        sub = node.mgmt or platform
        if node.id in console_ids:
            sub = f"{sum(1 for k in console_links if node.id in (k.a, k.b))} lines"
        tip = f"{node.name} — {node.role}, {platform}"
        if node.mgmt:
            tip += f", mgmt {node.mgmt}"
        if node.id in lines_of:
            tip += f", console {lines_of[node.id]}"
        if node.status:
            tip += f", {node.status}"
        body = (
            f'<g class="node" data-name="{escape(node.name)}" data-id="{node.id}">'
            f"<title>{escape(tip)}</title>"
            f'<rect class="box" x="{left:.1f}" y="{top:.1f}" width="{NODE_W}" '
            f'height="{NODE_H}" rx="4"/>'
            f'<rect x="{left:.1f}" y="{top:.1f}" width="5" height="{NODE_H}" rx="1" '
            f'fill="#{color}"/>'
            + _text(x + 3, y - 6, node.name, "name")
            + _text(x + 3, y + 9, f"{node.role} · {sub}"[:32], "sub")
            + (
                _text(x + 3, y + 20, f"con {lines_of[node.id]}"[:32], "sub")
                if node.id in lines_of
                else ""
            )
            + "</g>"
        )
        if node.url:
            body = f'<a href="{escape(node.url)}">{body}</a>'
        out.append(body)
    out.append("</svg>")
    return "".join(out)
