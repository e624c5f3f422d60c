"""The shape of a site design document (``kind: turnup/site-design/v1``): which keys each part
may have and what type each value is.

``document_shape_errors`` checks a whole parsed document against it before anything is
looked up or written, so a wrong type anywhere answers one error per place, each naming its
path and line (``line 12: devices[0].role: expected a name, got a list``) — never a crash
half-way through an import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from turnup.core.yamldoc import Path, YamlDocument, type_name

NAME, TEXT, INTEGER, NUMBER, BOOLEAN, LIST, MAPPING = (
    "name",
    "text",
    "integer",
    "number",
    "boolean",
    "list",
    "mapping",
)
EXPECTED = {
    NAME: "a name",
    TEXT: "text",
    INTEGER: "an integer",
    NUMBER: "a number",
    BOOLEAN: "true or false",
    LIST: "a list",
    MAPPING: "a mapping",
}
PORT_KEYS = ("interface", "console_port", "console_server_port")


@dataclass(frozen=True)
class Key:
    """One key of a mapping: its type, whether it must be there, whether it may be null, and
    for a list (of mappings) or a mapping, the keys of the mapping."""

    kind: str
    required: bool = False
    null: bool = False
    keys: dict[str, Key] = field(default_factory=dict)


def _list_of(keys: dict[str, Key]) -> Key:
    return Key(LIST, null=True, keys=keys)  # a missing or empty list: nothing of that kind


PORT_NAME = {"name": Key(TEXT, required=True)}
CABLE_END = {
    "device": Key(NAME, required=True),
    **{kind: Key(NAME) for kind in PORT_KEYS},
}
DOCUMENT: dict[str, Key] = {
    "kind": Key(TEXT, required=True),
    "site": Key(
        MAPPING,
        required=True,
        keys={
            "name": Key(TEXT, required=True),
            "slug": Key(TEXT, required=True),
            "status": Key(TEXT),
            "region": Key(TEXT),
            "facility": Key(TEXT),
            "time_zone": Key(TEXT),
            "physical_address": Key(TEXT),
            "description": Key(TEXT),
            "comments": Key(TEXT),
        },
    ),
    "racks": _list_of(
        {
            "name": Key(TEXT, required=True),
            "u_height": Key(INTEGER),
            "facility_id": Key(TEXT),
            "description": Key(TEXT),
        }
    ),
    "devices": _list_of(
        {
            "name": Key(TEXT, required=True),
            "role": Key(NAME, required=True),
            "device_type": Key(NAME, required=True),
            "platform": Key(NAME, null=True),
            "rack": Key(NAME, null=True),
            "position": Key(INTEGER, null=True),
            "face": Key(TEXT),
            "serial": Key(TEXT),
            "asset_tag": Key(TEXT, null=True),
            "status": Key(TEXT),
            "description": Key(TEXT),
            "comments": Key(TEXT),
            "console_host": Key(TEXT),
            "interfaces": _list_of(
                {
                    **PORT_NAME,
                    "type": Key(TEXT),
                    "enabled": Key(BOOLEAN),
                    "mtu": Key(INTEGER, null=True),
                    "mgmt_only": Key(BOOLEAN),
                    "description": Key(TEXT),
                }
            ),
            "console_ports": _list_of(PORT_NAME),
            "console_server_ports": _list_of(
                {
                    **PORT_NAME,
                    "line": Key(INTEGER),
                    "tcp_port": Key(INTEGER, null=True),
                    "baud": Key(INTEGER),
                    "access_method": Key(TEXT),
                }
            ),
        }
    ),
    "cables": _list_of(
        {
            "a": Key(MAPPING, required=True, keys=CABLE_END),
            "b": Key(MAPPING, required=True, keys=CABLE_END),
            "status": Key(TEXT),
            "type": Key(TEXT),
            "label": Key(TEXT),
            "color": Key(TEXT),
            "length": Key(NUMBER, null=True),
            "length_unit": Key(TEXT),
            "description": Key(TEXT),
        }
    ),
    "prefixes": _list_of(
        {
            "prefix": Key(TEXT, required=True),
            "vrf": Key(NAME, null=True),
            "name": Key(TEXT),
            "status": Key(TEXT),
            "role": Key(TEXT),
            "is_pool": Key(BOOLEAN),
            "description": Key(TEXT),
        }
    ),
    "ip_addresses": _list_of(
        {
            "address": Key(TEXT, required=True),
            "vrf": Key(NAME, null=True),
            "device": Key(NAME, null=True),
            "interface": Key(NAME, null=True),
            "role": Key(TEXT),
            "status": Key(TEXT),
            "is_primary_mgmt": Key(BOOLEAN),
            "dns_name": Key(TEXT),
            "description": Key(TEXT),
        }
    ),
}


def _is(kind: str, value: Any) -> bool:
    if kind in (NAME, TEXT):
        return isinstance(value, str)
    if kind == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == LIST:
        return isinstance(value, list)
    return isinstance(value, dict)


def _check_value(doc: YamlDocument, path: Path, value: Any, key: Key, errors: list) -> None:
    if value is None and key.null:
        return
    if not _is(key.kind, value):
        hint = " (put it in quotes)" if key.kind in (NAME, TEXT) and _is(NUMBER, value) else ""
        reason = f"expected {EXPECTED[key.kind]}, got {type_name(value)}{hint}"
        errors.append(doc.error(path, reason))
        return
    if key.kind == LIST and key.keys:
        for index, item in enumerate(value):
            _check_mapping(doc, (*path, index), item, key.keys, errors)
    elif key.kind == MAPPING:
        _check_mapping(doc, path, value, key.keys, errors)


def _check_mapping(
    doc: YamlDocument, path: Path, value: Any, keys: dict[str, Key], errors: list
) -> None:
    if not isinstance(value, dict):
        errors.append(doc.error(path, f"expected a mapping, got {type_name(value)}"))
        return
    for name in value:
        if name not in keys:
            errors.append(doc.error((*path, name), f"unknown key; known: {', '.join(keys)}"))
    for name, key in keys.items():
        if name in value:
            _check_value(doc, (*path, name), value[name], key, errors)
        elif key.required:
            errors.append(doc.error((*path, name), "required"))
    if keys is CABLE_END and "device" in value:
        named = [kind for kind in PORT_KEYS if kind in value]
        if len(named) != 1:
            errors.append(doc.error(path, f"must name exactly one of {', '.join(PORT_KEYS)}"))


def document_shape_errors(doc: YamlDocument) -> list[dict[str, Any]]:
    """Every place where ``doc`` does not have the shape of a site design document, as
    ``{"line", "path", "reason"}``; empty when it has."""
    errors: list[dict[str, Any]] = []
    _check_mapping(doc, (), doc.data, DOCUMENT, errors)
    return errors
