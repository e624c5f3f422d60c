"""Rack elevations as SVG, from plain data (no database, no Django).

Each rack is drawn front and rear side by side, unit 1 at the bottom, as engineers read a
rack. A full-depth device shows on both faces; a half-depth one only on the face it is
mounted on (the other face shows it greyed, since the unit is taken there too only when the
device is full depth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

U_PX = 18
FACE_W = 190
RAIL_W = 26
HEADER = 34
GAP = 22


@dataclass(frozen=True)
class RackDevice:
    """A mounted device: ``position`` is its lowest unit."""

    name: str
    position: int
    u_height: int = 1
    face: str = "front"
    full_depth: bool = True
    role: str = ""
    color: str = "9e9e9e"
    model: str = ""
    url: str = ""


@dataclass(frozen=True)
class RackData:
    name: str
    u_height: int = 42
    devices: tuple[RackDevice, ...] = field(default_factory=tuple)


def _face(rack: RackData, face: str, x0: float) -> list[str]:
    height = rack.u_height * U_PX
    out = [
        f'<text x="{x0 + RAIL_W + FACE_W / 2:.0f}" y="{HEADER - 8}" class="face" '
        f'text-anchor="middle">{face.capitalize()}</text>',
        f'<rect x="{x0}" y="{HEADER}" width="{RAIL_W * 2 + FACE_W}" height="{height}" '
        'class="frame"/>',
    ]
    for u in range(1, rack.u_height + 1):
        y = HEADER + (rack.u_height - u) * U_PX
        out.append(
            f'<text x="{x0 + RAIL_W - 5}" y="{y + U_PX - 5}" class="unum" '
            f'text-anchor="end">{u}</text>'
        )
        out.append(
            f'<rect x="{x0 + RAIL_W}" y="{y}" width="{FACE_W}" height="{U_PX}" class="slot"/>'
        )
    for device in sorted(rack.devices, key=lambda d: (d.position, d.name)):
        if device.u_height < 1 or device.position < 1:
            continue
        top_u = min(device.position + device.u_height - 1, rack.u_height)
        y = HEADER + (rack.u_height - top_u) * U_PX
        h = (top_u - device.position + 1) * U_PX
        on_face = device.face == face
        if not on_face and not device.full_depth:
            continue
        cls = "dev" if on_face else "dev back"
        color = device.color if len(device.color) == 6 else "9e9e9e"
        label = device.name if on_face else f"({device.name})"
        group = (
            f'<g class="{cls}" data-name="{escape(device.name)}">'
            f"<title>{escape(device.name)} — {escape(device.model)} "
            f"U{device.position}"
            f"{'-U' + str(top_u) if top_u != device.position else ''} "
            f"({escape(device.face)}{', full depth' if device.full_depth else ''})</title>"
            f'<rect x="{x0 + RAIL_W + 1}" y="{y + 1}" width="{FACE_W - 2}" height="{h - 2}" '
            f'rx="2" class="body"/>'
            f'<rect x="{x0 + RAIL_W + 1}" y="{y + 1}" width="6" height="{h - 2}" '
            f'fill="#{escape(color)}"/>'
            f'<text x="{x0 + RAIL_W + 12}" y="{y + h / 2 + 4:.0f}" class="dname">'
            f"{escape(label)}</text>"
            f'<text x="{x0 + RAIL_W + FACE_W - 6}" y="{y + h / 2 + 4:.0f}" class="dmodel" '
            f'text-anchor="end">{escape(device.model[:14])}</text>'
            "</g>"
        )
        if device.url:
            group = f'<a href="{escape(device.url)}">{group}</a>'
        out.append(group)
    return out


def rack_svg(rack: RackData) -> str:
    """Front and rear elevation of one rack as an ``<svg>`` element."""
    face_w = RAIL_W * 2 + FACE_W
    width = face_w * 2 + GAP
    height = HEADER + rack.u_height * U_PX + 10
    used = sum(
        min(d.u_height, max(rack.u_height - d.position + 1, 0))
        for d in rack.devices
        if d.position >= 1
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rack" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-label="Rack {escape(rack.name)}: {used} of {rack.u_height}U used">',
        "<style>"
        ".rack text{font:10px system-ui,sans-serif;fill:#1d2733}"
        ".rack .face{font-weight:600;fill:#5c6b7a}"
        ".rack .unum{font:9px ui-monospace,monospace;fill:#8795a5}"
        ".rack .frame{fill:#2b3642}"
        ".rack .slot{fill:#f4f6f8;stroke:#dde3ea;stroke-width:.6}"
        ".rack .dev .body{fill:#fff;stroke:#5c6b7a}"
        ".rack .dev.back .body{fill:#e6eaef;stroke:#aab4bf;stroke-dasharray:3 2}"
        ".rack .dev.back text{fill:#7b8794}"
        ".rack .dname{font-weight:600}"
        ".rack .dmodel{fill:#5c6b7a;font-size:9px}"
        ".rack a:hover .body{stroke:#0b6bcb;stroke-width:2}"
        "</style>",
    ]
    out += _face(rack, "front", 0)
    out += _face(rack, "rear", face_w + GAP)
    out.append("</svg>")
    return "".join(out)
