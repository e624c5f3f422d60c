"""From a validated blueprint document and parameter values to the site it describes: device
names, links, console wiring, addressing and routing — plain data, no database.

The planner (``planner.py``) compares this with what the database holds.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

import yaml

from turnup.blueprints.schema import MAX_SLOT_COUNT, validate_document
from turnup.core.errors import ApplicationError
from turnup.core.validation import pattern_fullmatch
from turnup.core.yamldoc import yaml_load, yaml_text

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


class BlueprintInvalid(ApplicationError):
    """A blueprint document or a parameter value is wrong; ``extra["errors"]`` lists each
    problem as ``path: reason``."""

    def __init__(self, errors: list[str], message: str = "Blueprint is not valid") -> None:
        super().__init__(f"{message}: {errors[0]}", extra={"errors": errors})
        self.errors = errors


def _yaml_problems(error: ApplicationError) -> list[str]:
    """yamldoc's ``{"line", "column", "reason"}`` errors as blueprint errors (``where: why``)."""
    problems = []
    for item in error.extra.get("errors") or [{"reason": error.message}]:
        where = "(document)"
        if item.get("line"):
            column = f", column {item['column']}" if "column" in item else ""
            where = f"line {item['line']}{column}"
        problems.append(f"{where}: {item['reason']}")
    return problems


def source_text(raw: bytes | str) -> str:
    """The text of an uploaded blueprint; bytes that are not UTF-8 raise ``BlueprintInvalid``
    naming the first bad byte."""
    try:
        return yaml_text(raw, what="blueprint")
    except ApplicationError as error:
        raise BlueprintInvalid(_yaml_problems(error)) from None


def document_load(source: str) -> dict[str, Any]:
    """Parse and validate YAML source; raise ``BlueprintInvalid`` with every problem."""
    try:
        document = yaml_load(source, what="blueprint").data
    except ApplicationError as error:
        raise BlueprintInvalid(_yaml_problems(error)) from None
    errors = validate_document(document)
    if errors:
        raise BlueprintInvalid(errors)
    return document


# -- parameters ------------------------------------------------------------------------------
SHOWN_LENGTH = 60  # a refused value is quoted this far in its error, not whole


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= SHOWN_LENGTH else f"{text[:SHOWN_LENGTH]}… ({len(text)} characters)"


def _coerce(name: str, spec: dict[str, Any], value: Any) -> Any:
    kind = spec["type"]
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError("not an integer")
        if isinstance(value, str):
            if not re.fullmatch(r"-?\d+", value.strip()):
                raise ValueError(f"{_shown(value)} is not an integer")
            value = int(value)
        if not isinstance(value, int):
            raise ValueError("not an integer")
        if "minimum" in spec and value < spec["minimum"]:
            raise ValueError(f"{_shown(value)} is below the minimum {spec['minimum']}")
        if "maximum" in spec and value > spec["maximum"]:
            raise ValueError(f"{_shown(value)} is above the maximum {spec['maximum']}")
    elif kind == "boolean":
        if isinstance(value, str):
            word = value.strip().lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise ValueError(f"{_shown(value)} is not a boolean (true/false)")
            value = word in TRUE_WORDS
        if not isinstance(value, bool):
            raise ValueError("not a boolean")
    else:
        if not isinstance(value, str):
            raise ValueError("not a string")
        if "pattern" in spec and not pattern_fullmatch(spec["pattern"], value):
            raise ValueError(f"{_shown(value)} does not match {spec['pattern']}")
    if "choices" in spec and value not in spec["choices"]:
        raise ValueError(f"{_shown(value)} is not one of {', '.join(map(str, spec['choices']))}")
    return value


def params_resolve(document: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Declared parameters with defaults applied and values coerced to their type."""
    declared = document["parameters"]
    errors = [f'params.{name}: no parameter named "{name}"' for name in raw if name not in declared]
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in raw and raw[name] is not None:
            try:
                values[name] = _coerce(name, spec, raw[name])
            except ValueError as error:
                errors.append(f"params.{name}: {error}")
        elif "default" in spec:
            values[name] = spec["default"]
        elif spec.get("required", name == "name"):
            errors.append(f"params.{name}: required")
        else:
            values[name] = None
    if errors:
        raise BlueprintInvalid(errors, "Parameters are not valid")
    return values


def condition_holds(expression: str | None, params: dict[str, Any]) -> bool:
    """``param``, ``not param``, ``param == 'x'``, ``param != 3``."""
    if expression is None:
        return True
    text = expression.strip()
    negate = text.startswith("not ")
    if negate:
        text = text[4:].strip()
    match = re.fullmatch(r"([a-z_][a-z0-9_]*)\s*(==|!=)\s*(.+)", text)
    if match:
        name, op, literal = match.groups()
        literal = yaml.safe_load(literal)
        result = (params.get(name) == literal) == (op == "==")
    else:
        result = bool(params.get(text))
    return not result if negate else result


# -- the expanded design ---------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceSpec:
    name: str
    slot: str
    index: int
    role: str
    device_type: str
    platform: str
    loopback_interface: str | None
    mgmt_interface: str | None
    asn: str  # "site" | "device" | "none"
    mtu: int | None


@dataclass(frozen=True)
class LinkEnd:
    device: str
    interface: str | None = None  # an explicit interface name …
    kind: str | None = None  # … or the next free interface of this type


@dataclass(frozen=True)
class LinkSpec:
    a: LinkEnd
    b: LinkEnd
    mtu: int | None
    address: bool
    description: str


@dataclass(frozen=True)
class ConsoleSpec:
    servers: tuple[str, ...]  # console-server device names, filled in order
    devices: tuple[str, ...]  # devices to wire, in line order
    first_line: int
    tcp_port_base: int
    baud: int
    method: str


@dataclass(frozen=True)
class SessionSpec:
    kind: str  # ibgp | ebgp
    a: str
    b: str
    via: str  # "loopback" or "link"
    link: int | None = None  # index into Design.links when via == "link"


@dataclass
class Design:
    blueprint: str
    version: int
    site: str
    params: dict[str, Any]
    devices: list[DeviceSpec]
    links: list[LinkSpec]
    console: ConsoleSpec | None
    pools: dict[str, dict[str, Any]]
    asn_ranges: dict[str, dict[str, Any]]
    addressing: dict[str, Any]
    ospf: dict[str, Any] | None
    ospf_links: list[int]
    sessions: list[SessionSpec]
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def device_names(self) -> list[str]:
        return [d.name for d in self.devices]


def _int(value: Any, params: dict[str, Any]) -> int | None:
    """An integer field that may name an integer parameter (``"{core_mtu}"``)."""
    if isinstance(value, str):
        return params.get(value.strip("{}"))
    return value


def _format(text: str, values: dict[str, Any], *, where: str = "(document)") -> str:
    """``text.format(**values)`` with plain placeholders only: no attribute or index access
    (``{name.__class__}``), no nested or wide fields (``{n:>999999999}``)."""
    try:
        fields = [(name, spec) for _, name, spec, _ in string.Formatter().parse(text) if name]
    except ValueError as error:
        raise BlueprintInvalid([f"{where}: {error}"]) from None
    for name, spec in fields:
        if name not in values:
            raise BlueprintInvalid([f"{where}: unknown placeholder {{{name}}}"])
        if spec and ("{" in spec or re.search(r"\d{3,}", spec)):
            raise BlueprintInvalid([f"{where}: {{{name}:{spec}}}: a field is at most 99 wide"])
    try:
        return text.format(**values)
    except (ValueError, TypeError) as error:
        raise BlueprintInvalid([f"{where}: {error}"]) from None


def _fill(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        exact = re.fullmatch(r"\{([a-z_][a-z0-9_]*)\}", value)
        if exact and exact.group(1) in values:
            return values[exact.group(1)]  # keeps the parameter's type
        try:
            return _format(value, values)
        except BlueprintInvalid:
            return value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def design_build(document: dict[str, Any], params: dict[str, Any]) -> Design:
    """Expand slots, links, console wiring and routing for these parameter values."""
    site = params["name"]
    base = {**params, "site": site, "site_lower": site.lower()}
    errors: list[str] = []

    devices: list[DeviceSpec] = []
    by_slot: dict[str, list[DeviceSpec]] = {}
    slot_docs = [s for s in document["slots"] if condition_holds(s.get("when"), params)]
    for slot in slot_docs:
        path = f"slots[{document['slots'].index(slot)}]"
        count = slot.get("count", 1)
        if isinstance(count, str):
            count = params[count.strip("{}")] or 0
        if count > MAX_SLOT_COUNT:
            raise BlueprintInvalid(
                [f"{path}.count: {count} devices; a slot has at most {MAX_SLOT_COUNT}"],
                "Blueprint cannot be built with these parameters",
            )
        by_slot[slot["name"]] = []
        for n in range(1, count + 1):
            spec = DeviceSpec(
                name=_format(
                    slot["name_pattern"],
                    {**base, "n": n, "slot": slot["name"]},
                    where=f"{path}.name_pattern",
                ),
                slot=slot["name"],
                index=n,
                role=_format(slot["role"], base, where=f"{path}.role"),
                device_type=_format(slot["device_type"], base, where=f"{path}.device_type"),
                platform=_format(slot["platform"], base, where=f"{path}.platform"),
                loopback_interface=slot.get("loopback_interface"),
                mgmt_interface=slot.get("mgmt_interface"),
                asn=slot.get("asn", "none"),
                mtu=_int(slot.get("mtu"), params),
            )
            devices.append(spec)
            by_slot[slot["name"]].append(spec)
    seen: set[str] = set()
    for spec in devices:
        if spec.name in seen:
            errors.append(f'slots: two devices would be named "{spec.name}"')
        seen.add(spec.name)

    def peers_of(ref: str, n: int) -> list[DeviceSpec] | None:
        ref = ref.replace("{n}", str(n))
        if ref in by_slot:
            return by_slot[ref]
        slot_name, _, index = ref.rpartition("-")
        if slot_name in by_slot and index.isdigit():
            return [d for d in by_slot[slot_name] if d.index == int(index)]
        return None  # the slot is switched off by a condition

    links: list[LinkSpec] = []
    for i, slot in enumerate(document["slots"]):
        if slot["name"] not in by_slot:
            continue
        for j, link in enumerate(slot.get("links", [])):
            if not condition_holds(link.get("when"), params):
                continue
            for device in by_slot[slot["name"]]:
                if "index" in link and device.index != link["index"]:
                    continue
                peers = peers_of(link["peer"], device.index)
                if peers is None:
                    continue
                if not peers and "{n}" in link["peer"]:
                    errors.append(
                        f"slots[{i}].links[{j}].peer: {device.name} has no peer "
                        f'"{link["peer"].replace("{n}", str(device.index))}"'
                    )
                for peer in peers:
                    if peer.name == device.name:
                        continue
                    if peer.slot == device.slot and link["peer"] == slot["name"]:
                        if peer.index < device.index:
                            continue  # a slot meshed with itself: each pair once
                    links.append(
                        LinkSpec(
                            a=LinkEnd(device.name, link.get("interface"), link.get("kind")),
                            b=LinkEnd(peer.name, link.get("peer_interface"), link.get("peer_kind")),
                            # a slot's MTU is for its routed links, not a management port
                            mtu=_int(link.get("mtu"), params)
                            or ((device.mtu or peer.mtu) if link.get("address", True) else None),
                            address=link.get("address", True),
                            description=link.get("description", ""),
                        )
                    )

    console = None
    if document.get("console") and document["console"]["server"] in by_slot:
        spec = document["console"]
        server_slot = spec["server"]
        wired_slots = spec.get("slots") or [s for s in by_slot if s != server_slot]
        console = ConsoleSpec(
            servers=tuple(d.name for d in by_slot[server_slot]),
            devices=tuple(d.name for s in wired_slots for d in by_slot.get(s, [])),
            first_line=spec.get("first_line", 1),
            tcp_port_base=spec.get("tcp_port_base", 2000),
            baud=spec.get("baud", 9600),
            method=spec.get("method", "telnet"),
        )
        if console.devices and not console.servers:
            errors.append("console.server: no console server device for the console wiring")

    slot_of = {d.name: d.slot for d in devices}
    ospf = document.get("routing", {}).get("ospf")
    ospf_links: list[int] = []
    if ospf:
        ospf = {"process": 1, "area": "0.0.0.0", "network_type": "p2p", "cost": 10, **ospf}
        ospf_slots = set(ospf["slots"])
        ospf_links = [
            k
            for k, link in enumerate(links)
            if link.address
            and slot_of[link.a.device] in ospf_slots
            and slot_of[link.b.device] in ospf_slots
        ]

    sessions: list[SessionSpec] = []
    for s, session in enumerate(document.get("routing", {}).get("bgp", {}).get("sessions", [])):
        if not condition_holds(session.get("when"), params):
            continue
        slots = session["slots"]
        if session["kind"] == "ibgp":
            members = [d for name in slots for d in by_slot.get(name, [])]
            for x, a in enumerate(members):
                for b in members[x + 1 :]:
                    if a.asn == "device" or b.asn == "device":
                        errors.append(
                            f"routing.bgp.sessions[{s}]: iBGP between {a.name} and {b.name} "
                            "needs one ASN (slot asn: site)"
                        )
                    sessions.append(SessionSpec("ibgp", a.name, b.name, "loopback"))
        else:
            pair = set(slots)
            for k, link in enumerate(links):
                ends = {slot_of[link.a.device], slot_of[link.b.device]}
                if ends == pair:
                    if not link.address:
                        continue
                    sessions.append(SessionSpec("ebgp", link.a.device, link.b.device, "link", k))

    if errors:
        raise BlueprintInvalid(errors, "Blueprint cannot be built with these parameters")

    context = {**base}
    variables = _fill(document.get("variables", {}), context)
    pools = {name: _fill(dict(spec), context) for name, spec in document.get("pools", {}).items()}
    return Design(
        blueprint=document["name"],
        version=document["version"],
        site=site,
        params=params,
        devices=devices,
        links=links,
        console=console,
        pools=pools,
        asn_ranges=document.get("asn_ranges", {}),
        addressing=_fill(document.get("addressing", {}), context),
        ospf=ospf,
        ospf_links=ospf_links,
        sessions=sessions,
        variables=variables,
    )
