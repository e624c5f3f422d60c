"""The blueprint format: a JSON Schema for its shape, then the cross-references a schema
cannot express (a link's peer must name a slot, a pool must be declared, …).

Every error names where it is, in the path syntax people read in the YAML:
``slots[2].links[0].peer: no slot named "core-3"``.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Iterable
from typing import Any

import jsonschema

from turnup.core.validation import pattern_compile, pattern_fullmatch

NAME = r"^[a-z][a-z0-9-]*$"
WHEN = r"^\s*(not\s+)?[a-z_][a-z0-9_]*(\s*(==|!=)\s*('[^']*'|\"[^\"]*\"|-?[0-9]+|true|false))?\s*$"

PARAM_REF = r"^\{[a-z_][a-z0-9_]*\}$"
MAX_SLOT_COUNT = 1000  # devices of one slot in one site
MTU = {
    "oneOf": [
        {"type": "integer", "minimum": 576, "maximum": 9216},
        {"type": "string", "pattern": PARAM_REF},
    ]
}

_IFACE_PROPS = {
    "interface": {"type": "string", "minLength": 1},
    "kind": {"type": "string", "minLength": 1},
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "version", "parameters", "slots"],
    "properties": {
        "name": {"type": "string", "pattern": NAME, "maxLength": 50},
        "version": {"type": "integer", "minimum": 1},
        "description": {"type": "string"},
        "parameters": {
            "type": "object",
            "required": ["name"],
            "propertyNames": {"pattern": r"^[a-z_][a-z0-9_]*$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type"],
                "properties": {
                    "type": {"enum": ["string", "integer", "boolean"]},
                    "default": {"type": ["string", "integer", "boolean"]},
                    "required": {"type": "boolean"},
                    "description": {"type": "string"},
                    "choices": {"type": "array", "minItems": 1},
                    "pattern": {"type": "string"},
                    "minimum": {"type": "integer"},
                    "maximum": {"type": "integer"},
                },
            },
        },
        "pools": {
            "type": "object",
            "propertyNames": {"pattern": NAME},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["prefix"],
                "properties": {
                    "prefix": {"type": "string"},
                    "vrf": {"type": ["string", "null"]},
                    "description": {"type": "string"},
                },
            },
        },
        "asn_ranges": {
            "type": "object",
            "propertyNames": {"pattern": NAME},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["start", "end"],
                "properties": {
                    "start": {"type": "integer", "minimum": 1, "maximum": 4294967295},
                    "end": {"type": "integer", "minimum": 1, "maximum": 4294967295},
                    "description": {"type": "string"},
                },
            },
        },
        "addressing": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "loopback": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["pool"],
                    "properties": {"pool": {"type": "string"}},
                },
                "p2p": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["pool"],
                    "properties": {
                        "pool": {"type": "string"},
                        "prefix_length": {"enum": [30, 31]},
                    },
                },
                "management": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["pool"],
                    "properties": {
                        "pool": {"type": "string"},
                        "prefix_length": {"type": "integer", "minimum": 8, "maximum": 30},
                        "gateway": {
                            "oneOf": [
                                {"enum": ["first", "last"]},
                                {"type": "integer", "minimum": 1},
                            ]
                        },
                    },
                },
                "asn": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["range"],
                    "properties": {"range": {"type": "string"}},
                },
                "vlans": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["items"],
                    "properties": {
                        "group": {"type": "string"},
                        "min_vid": {"type": "integer", "minimum": 1, "maximum": 4094},
                        "max_vid": {"type": "integer", "minimum": 1, "maximum": 4094},
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string", "minLength": 1},
                                    "vid": {"type": "integer", "minimum": 1, "maximum": 4094},
                                },
                            },
                        },
                    },
                },
            },
        },
        "slots": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "name_pattern", "role", "device_type", "platform"],
                "properties": {
                    "name": {"type": "string", "pattern": NAME},
                    "name_pattern": {"type": "string", "minLength": 1},
                    "role": {"type": "string", "minLength": 1},
                    "device_type": {"type": "string", "minLength": 1},
                    "platform": {"type": "string", "minLength": 1},
                    "count": {
                        "oneOf": [
                            {"type": "integer", "minimum": 0, "maximum": MAX_SLOT_COUNT},
                            {"type": "string", "pattern": r"^\{[a-z_][a-z0-9_]*\}$"},
                        ]
                    },
                    "when": {"type": "string", "pattern": WHEN},
                    "loopback_interface": {"type": "string"},
                    "mgmt_interface": {"type": "string"},
                    "asn": {"enum": ["site", "device", "none"]},
                    "mtu": MTU,
                    "links": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["peer"],
                            "properties": {
                                **_IFACE_PROPS,
                                "index": {"type": "integer", "minimum": 1},
                                "peer": {"type": "string", "minLength": 1},
                                "peer_interface": {"type": "string", "minLength": 1},
                                "peer_kind": {"type": "string", "minLength": 1},
                                "when": {"type": "string", "pattern": WHEN},
                                "mtu": MTU,
                                "address": {"type": "boolean"},
                                "description": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
        "console": {
            "type": "object",
            "additionalProperties": False,
            "required": ["server"],
            "properties": {
                "server": {"type": "string"},
                "slots": {"type": "array", "items": {"type": "string"}},
                "first_line": {"type": "integer", "minimum": 0},
                "tcp_port_base": {"type": "integer", "minimum": 1, "maximum": 65000},
                "baud": {"enum": [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]},
                "method": {"enum": ["telnet", "ssh"]},
            },
        },
        "routing": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ospf": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["slots"],
                    "properties": {
                        "process": {"type": "integer", "minimum": 1, "maximum": 65535},
                        "area": {"type": "string", "pattern": r"^\d+(\.\d+\.\d+\.\d+)?$"},
                        "network_type": {"enum": ["p2p", "broadcast"]},
                        "cost": {"type": "integer", "minimum": 1, "maximum": 65535},
                        "slots": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "bgp": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "sessions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["kind", "slots"],
                                "properties": {
                                    "kind": {"enum": ["ibgp", "ebgp"]},
                                    "slots": {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": 2,
                                        "items": {"type": "string"},
                                    },
                                    "when": {"type": "string", "pattern": WHEN},
                                },
                            },
                        }
                    },
                },
            },
        },
        "variables": {"type": "object"},
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def format_path(parts: Iterable[Any]) -> str:
    """``["slots", 2, "links", 0, "peer"]`` -> ``slots[2].links[0].peer``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


def _schema_message(error: jsonschema.ValidationError) -> str:
    validator = error.validator
    if validator == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        return f"missing required key {missing.group(1)!r}" if missing else error.message
    if validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        return f"unknown key {', '.join(repr(e) for e in extra)}"
    if validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(repr, error.validator_value))}"
    if validator == "pattern" and error.path and error.path[-1] == "when":
        return f"cannot read condition {error.instance!r} (use: param, not param, param == 'x')"
    return error.message


def _slot_ref_error(ref: str, slots: dict[str, int | None]) -> str | None:
    """None when ``ref`` names a slot or one of its instances (``core`` or ``core-2``)."""
    if ref in slots:
        return None
    base, _, index = ref.rpartition("-")
    if base in slots and (index.isdigit() or index == "{n}"):
        count = slots[base]
        if index == "{n}" or count is None or 1 <= int(index) <= count:
            return None
    return f'no slot named "{ref}"'


def _fields_of(pattern: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(pattern) if name]
    except ValueError as error:
        return [f"!{error}"]


def _when_param(expression: str) -> str:
    expression = expression.strip()
    if expression.startswith("not "):
        expression = expression[4:].strip()
    return re.split(r"\s*(?:==|!=)\s*", expression)[0]


def validate_document(document: Any) -> list[str]:
    """Every problem in a blueprint document, as ``path: reason`` strings (empty: valid)."""
    errors = sorted(_VALIDATOR.iter_errors(document), key=lambda e: list(map(str, e.path)))
    if errors:
        return [f"{format_path(e.absolute_path)}: {_schema_message(e)}" for e in errors]
    return _semantic_errors(document)


def _semantic_errors(doc: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    params = doc["parameters"]
    slots_doc = doc["slots"]
    pools = doc.get("pools", {})
    ranges = doc.get("asn_ranges", {})
    counts: dict[str, int | None] = {}
    placeholders = {*params, "site", "site_lower", "n", "slot"}

    for name, spec in params.items():
        if "default" in spec:
            expected = {"string": str, "integer": int, "boolean": bool}[spec["type"]]
            value = spec["default"]
            if type(value) is not expected:
                problems.append(f"parameters.{name}.default: not a {spec['type']}")
            elif "choices" in spec and value not in spec["choices"]:
                problems.append(f"parameters.{name}.default: {value!r} is not one of the choices")
            elif expected is int and not spec.get("minimum", value) <= value <= spec.get(
                "maximum", value
            ):
                problems.append(
                    f"parameters.{name}.default: {value} is outside "
                    f"{spec.get('minimum', '')}..{spec.get('maximum', '')}"
                )
        if spec.get("minimum", 0) > spec.get("maximum", spec.get("minimum", 0)):
            problems.append(
                f"parameters.{name}: minimum {spec['minimum']} is above maximum "
                f"{spec['maximum']}: no value can be given"
            )
        if "pattern" in spec:
            try:
                pattern_compile(spec["pattern"])
            except ValueError as error:
                problems.append(f"parameters.{name}.pattern: {error}")
            else:
                default = spec.get("default")
                try:
                    if isinstance(default, str) and not pattern_fullmatch(spec["pattern"], default):
                        problems.append(
                            f"parameters.{name}.default: {default!r} does not match the pattern"
                        )
                except ValueError as error:
                    problems.append(f"parameters.{name}.default: {error}")

    def check_when(path: str, expression: str | None) -> None:
        if expression is not None and _when_param(expression) not in params:
            problems.append(f'{path}: no parameter named "{_when_param(expression)}"')

    def check_int_ref(path: str, value: Any) -> None:
        if isinstance(value, str):
            param = value.strip("{}")
            if param not in params:
                problems.append(f'{path}: no parameter named "{param}"')
            elif params[param]["type"] != "integer":
                problems.append(f'{path}: parameter "{param}" is not an integer')

    for i, slot in enumerate(slots_doc):
        path = f"slots[{i}]"
        if slot["name"] in counts:
            problems.append(f'{path}.name: slot "{slot["name"]}" is declared twice')
        count = slot.get("count", 1)
        if isinstance(count, str):
            param = count.strip("{}")
            if param not in params:
                problems.append(f'{path}.count: no parameter named "{param}"')
            elif params[param]["type"] != "integer":
                problems.append(f'{path}.count: parameter "{param}" is not an integer')
            counts[slot["name"]] = None
        else:
            counts[slot["name"]] = count
        for field in _fields_of(slot["name_pattern"]):
            if field.startswith("!") or field.split(":")[0] not in placeholders:
                problems.append(f"{path}.name_pattern: unknown placeholder {{{field}}}")
        for key in ("role", "device_type", "platform"):
            for field in _fields_of(slot[key]):
                if field.startswith("!") or field not in {*params, "site", "site_lower"}:
                    problems.append(f"{path}.{key}: unknown placeholder {{{field}}}")
        if "{n" not in slot["name_pattern"] and (count != 1):
            problems.append(f"{path}.name_pattern: needs {{n}} when count is not 1")
        check_when(f"{path}.when", slot.get("when"))
        check_int_ref(f"{path}.mtu", slot.get("mtu"))

    for i, slot in enumerate(slots_doc):
        for j, link in enumerate(slot.get("links", [])):
            path = f"slots[{i}].links[{j}]"
            reason = _slot_ref_error(link["peer"], counts)
            if reason:
                problems.append(f"{path}.peer: {reason}")
            for a, b in (("interface", "kind"), ("peer_interface", "peer_kind")):
                if (a in link) == (b in link):
                    problems.append(f"{path}: give exactly one of {a} or {b}")
            index = link.get("index")
            count = counts.get(slot["name"])
            if index is not None and count is not None and index > count:
                problems.append(f"{path}.index: slot {slot['name']} has only {count} device(s)")
            check_when(f"{path}.when", link.get("when"))
            check_int_ref(f"{path}.mtu", link.get("mtu"))

    addressing = doc.get("addressing", {})
    for key in ("loopback", "p2p", "management"):
        if key in addressing and addressing[key]["pool"] not in pools:
            pool = addressing[key]["pool"]
            problems.append(f'addressing.{key}.pool: no pool named "{pool}"')
    if "asn" in addressing and addressing["asn"]["range"] not in ranges:
        problems.append(f'addressing.asn.range: no ASN range named "{addressing["asn"]["range"]}"')
    for name, spec in ranges.items():
        if spec["start"] > spec["end"]:
            problems.append(f"asn_ranges.{name}: start is after end")
    for name, spec in pools.items():
        try:
            ipaddress.ip_network(spec["prefix"])
        except ValueError as error:
            problems.append(f"pools.{name}.prefix: {error}")

    console = doc.get("console")
    if console:
        reason = _slot_ref_error(console["server"], {k: None for k in counts})
        if reason or console["server"] not in counts:
            problems.append(f'console.server: no slot named "{console["server"]}"')
        for k, name in enumerate(console.get("slots", [])):
            if name not in counts:
                problems.append(f'console.slots[{k}]: no slot named "{name}"')

    routing = doc.get("routing", {})
    for k, name in enumerate(routing.get("ospf", {}).get("slots", [])):
        if name not in counts:
            problems.append(f'routing.ospf.slots[{k}]: no slot named "{name}"')
    for s, session in enumerate(routing.get("bgp", {}).get("sessions", [])):
        for k, name in enumerate(session["slots"]):
            if name not in counts:
                problems.append(f'routing.bgp.sessions[{s}].slots[{k}]: no slot named "{name}"')
        check_when(f"routing.bgp.sessions[{s}].when", session.get("when"))
    needs_asn = routing.get("bgp", {}).get("sessions") or any(
        slot.get("asn") in ("site", "device") for slot in slots_doc
    )
    if needs_asn and "asn" not in addressing:
        problems.append("addressing.asn: BGP sessions need an ASN range (addressing.asn.range)")
    return problems
