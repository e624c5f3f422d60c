"""Lint of rendered configs, before anything can be pushed.

``lint_config(text=..., context=..., kind=...) -> list[Finding]`` checks one config against the
design it was rendered from (the ``DeviceContext``):

IOS-XE (parsed into its parent/child hierarchy): hostname matches the design; every cabled
interface of the design has an address or is a LAG member; no telnet on any line; no clear-text
``password``/``secret 0``; the bootstrap holds everything the console phase needs (users,
management interface in its VRF with a default route, RSA key, SSH v2, vty SSH + local login,
NETCONF).

Junos (``set`` commands): every line is a well-formed set command (balanced quotes, no braces);
``system root-authentication`` present (Junos refuses to commit without it); host-name
matches; SSH enabled, no telnet; no clear-text passwords; cabled interfaces addressed or
members; the bootstrap has NETCONF, the management address and the ``mgmt_junos`` route.

The IOS hierarchy comes from ``ios_tree`` (indentation, as IOS writes it), which gives the same
parents and children as ciscoconfparse2 (a test checks this on every golden file) at a fraction
of the cost; ``parser="ciscoconfparse2"`` lints through ciscoconfparse2 itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from turnup.checks.engine import ERROR, WARNING
from turnup.checks.engine import Finding as CheckFinding
from turnup.configs.context import KIND_BOOTSTRAP, PLATFORM_JUNOS, DeviceContext


@dataclass(frozen=True)
class Finding(CheckFinding):
    """A lint finding: the preflight checks' ``Finding`` (severity, rule, object_type,
    object_id, object_name, message), plus the config ``line`` it is about when there is one.
    ``object_name`` is e.g. ``lon-01-er1 GigabitEthernet0``; ``object_id`` the device id."""

    line: int | None = None


def _finding(
    context: DeviceContext, severity: str, rule: str, obj: str, message: str, line: int | None
) -> Finding:
    return Finding(severity, rule, "dcim.device", context.device_id, obj, message, line)


# -- IOS hierarchy --------------------------------------------------------------------------


@dataclass(slots=True)
class IOSLine:
    text: str
    number: int
    children: list[IOSLine]

    @property
    def words(self) -> list[str]:
        return self.text.split()


def ios_tree(text: str) -> list[IOSLine]:
    """Top-level IOS lines with their children (by indentation); ``!`` comments are dropped,
    the body of a ``banner`` is skipped up to its closing delimiter."""
    roots: list[IOSLine] = []
    stack: list[tuple[int, IOSLine]] = []
    banner_delim: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if banner_delim is not None:
            if banner_delim in raw:
                banner_delim = None
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("!"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        node = IOSLine(stripped, number, [])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((indent, node))
        if stripped.startswith("banner ") and len(stripped.split()) >= 3:
            delim = stripped.split()[2][0]
            if stripped.count(delim) < 2:
                banner_delim = delim
    return roots


def ios_tree_ciscoconfparse2(text: str) -> list[IOSLine]:
    """The same tree built by ciscoconfparse2."""
    from ciscoconfparse2 import CiscoConfParse

    parse = CiscoConfParse(text.splitlines(), syntax="ios", auto_commit=False)

    def keep(obj) -> bool:
        return bool(obj.text.strip()) and not obj.text.strip().startswith("!")

    def convert(obj) -> IOSLine:
        children = [convert(c) for c in obj.children if keep(c)]
        return IOSLine(obj.text.strip(), obj.linenum + 1, children)

    return [convert(obj) for obj in parse.objs if obj.parent is obj and keep(obj)]


def _find(nodes: Iterable[IOSLine], pattern: str) -> list[IOSLine]:
    regex = re.compile(pattern)
    return [node for node in nodes if regex.search(node.text)]


def _walk(nodes: Iterable[IOSLine]) -> Iterable[IOSLine]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


_IOS_PLAINTEXT = re.compile(r"\b(password|secret)\s+(0\s+\S|[^\s057]\S*\s*$)")
_IOS_TYPE7 = re.compile(r"\bpassword\s+7\s+\S")


def _lint_ios(tree: list[IOSLine], context: DeviceContext, kind: str) -> list[Finding]:
    findings: list[Finding] = []
    host = context.hostname

    def add(severity: str, rule: str, obj: str, message: str, line: int | None = None) -> None:
        findings.append(_finding(context, severity, rule, obj, message, line))

    hostnames = _find(tree, r"^hostname\s")
    if not hostnames:
        add(ERROR, "hostname", host, "no hostname line")
    for node in hostnames:
        if node.words[1:] != [host]:
            add(
                ERROR,
                "hostname",
                host,
                f"hostname {' '.join(node.words[1:])!r} is not the design's {host!r}",
                node.number,
            )

    for node in _walk(tree):
        if _IOS_PLAINTEXT.search(node.text):
            add(
                ERROR,
                "plaintext-secret",
                host,
                f"clear-text secret: {node.words[0]} …",
                node.number,
            )
        elif _IOS_TYPE7.search(node.text):
            add(WARNING, "weak-secret", host, "type 7 password (reversible)", node.number)
        elif node.words[:2] == ["snmp-server", "user"] and "auth" in node.words:
            if "encrypted" not in node.words:
                add(ERROR, "plaintext-secret", host, "SNMPv3 key in clear text", node.number)
        elif node.words[:2] == ["snmp-server", "community"]:
            add(WARNING, "snmp-community", host, "SNMPv1/v2c community", node.number)

    lines = _find(tree, r"^line\s")
    for line in lines:
        for child in line.children:
            words = child.words
            if words[:2] == ["transport", "input"] and (
                "telnet" in words[2:] or "all" in words[2:]
            ):
                add(ERROR, "telnet", f"{host} {line.text}", "telnet allowed", child.number)
    vtys = _find(lines, r"^line vty\s")
    if not vtys:
        add(ERROR, "ssh", host, "no line vty: the router cannot be reached over SSH")
    for vty in vtys:
        inputs = [c for c in vty.children if c.words[:2] == ["transport", "input"]]
        if not inputs or any(c.words[2:] != ["ssh"] for c in inputs):
            add(ERROR, "ssh", f"{host} {vty.text}", "vty must have 'transport input ssh' only")
        if not _find(vty.children, r"^login (local|authentication)"):
            add(ERROR, "ssh", f"{host} {vty.text}", "vty without local login", vty.number)

    interfaces = {node.words[1]: node for node in _find(tree, r"^interface\s") if node.words[1:]}
    if kind != KIND_BOOTSTRAP:
        for intf in context.interfaces:
            node = interfaces.get(intf.name)
            obj = f"{host} {intf.name}"
            if node is None:
                add(ERROR, "cabled-interface", obj, "cabled in the design but not configured")
                continue
            addressed = _find(node.children, r"^(ip address \d|channel-group \d)")
            if not addressed:
                add(
                    ERROR,
                    "cabled-interface",
                    obj,
                    "cabled interface without an address or LAG membership",
                    node.number,
                )

    mgmt = interfaces.get(context.mgmt.interface)
    mobj = f"{host} {context.mgmt.interface}"
    if mgmt is None:
        add(ERROR, "management", mobj, "management interface not configured")
    else:
        if not _find(mgmt.children, rf"^vrf forwarding {re.escape(context.mgmt.vrf)}$"):
            add(ERROR, "management", mobj, f"not in VRF {context.mgmt.vrf}", mgmt.number)
        if not _find(mgmt.children, r"^ip address \d"):
            add(ERROR, "management", mobj, "no address", mgmt.number)
    route = rf"^ip route vrf {re.escape(context.mgmt.vrf)} 0\.0\.0\.0 0\.0\.0\.0 \S+"
    if not _find(tree, route):
        add(ERROR, "management", mobj, f"no default route in VRF {context.mgmt.vrf}")

    if not _find(tree, r"^username \S+ privilege 15 secret [89] "):
        add(ERROR, "users", host, "no privilege-15 local user with a hashed secret")
    if not _find(tree, r"^ip ssh version 2$"):
        add(ERROR, "ssh", host, "'ip ssh version 2' missing")
    if not _find(tree, r"^netconf-yang$"):
        add(ERROR, "netconf", host, "'netconf-yang' missing")
    if kind == KIND_BOOTSTRAP and not _find(tree, r"^crypto key generate rsa"):
        add(ERROR, "ssh", host, "bootstrap must generate the RSA host key")
    if kind == KIND_BOOTSTRAP and not _find(tree, r"^ip domain[ -]name \S"):
        add(ERROR, "ssh", host, "no 'ip domain name': IOS cannot generate the RSA key")
    if not _find(tree, r"^aaa new-model$"):
        add(ERROR, "netconf", host, "'aaa new-model' missing: NETCONF cannot authenticate")
    return findings


# -- Junos set commands -------------------------------------------------------------------


_ESCAPED = re.compile(r"\\.")
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def junos_set_lines(text: str) -> tuple[list[tuple[int, list[str]]], list[Finding]]:
    """The set commands of ``text`` as (line number, words), and the malformed-line findings."""
    parsed: list[tuple[int, list[str]]] = []
    findings: list[Finding] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        problem = None
        if any(ch in line for ch in "{};") and not _quoted_only(line, "{};"):
            problem = "braces or ';' in a set command (curly syntax mixed in)"
        elif not line.startswith(("set ", "delete ")):
            problem = "not a set/delete command"
        elif _ESCAPED.sub("", line).count('"') % 2:
            problem = "unbalanced quotes"
        else:
            words = [
                m.group(1) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(line)
            ]
            if len(words) < 3:
                problem = "set command without a statement"
            else:
                parsed.append((number, words))
        if problem:
            findings.append(
                Finding(ERROR, "syntax", "", None, "", f"line {number}: {problem}", number)
            )
    return parsed, findings


def _quoted_only(line: str, chars: str) -> bool:
    """True when every occurrence of ``chars`` in ``line`` is inside double quotes."""
    inside = False
    escaped = False
    for ch in line:
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == '"':
            inside = not inside
        elif ch in chars and not inside:
            return False
    return True


def _lint_junos(text: str, context: DeviceContext, kind: str) -> list[Finding]:
    host = context.hostname
    parsed, findings = junos_set_lines(text)
    findings = [_finding(context, f.severity, f.rule, host, f.message, f.line) for f in findings]

    def add(severity: str, rule: str, obj: str, message: str, line: int | None = None) -> None:
        findings.append(_finding(context, severity, rule, obj, message, line))

    def has(*prefix: str) -> list[tuple[int, list[str]]]:
        size = len(prefix)
        return [(n, w) for n, w in parsed if w[0] == "set" and tuple(w[1 : 1 + size]) == prefix]

    names = has("system", "host-name")
    if not names:
        add(ERROR, "hostname", host, "no 'system host-name'")
    for number, words in names:
        if words[3:] != [host]:
            add(ERROR, "hostname", host, f"host-name {words[3:]} is not {host!r}", number)
    if not has("system", "root-authentication"):
        add(ERROR, "root-authentication", host, "'system root-authentication' missing")
    for number, words in parsed:
        if any(
            w.startswith("plain-text-password")
            or w in ("authentication-password", "privacy-password")
            for w in words
        ):
            add(ERROR, "plaintext-secret", host, "clear-text password statement", number)
        if words[:4] == ["set", "system", "services", "telnet"]:
            add(ERROR, "telnet", host, "telnet service enabled", number)
    if not has("system", "services", "ssh"):
        add(ERROR, "ssh", host, "'system services ssh' missing")
    if not has("system", "services", "netconf", "ssh"):
        add(ERROR, "netconf", host, "'system services netconf ssh' missing")
    if not [w for _, w in has("system", "login", "user") if "encrypted-password" in w]:
        add(ERROR, "users", host, "no local user with an encrypted password")

    mgmt = context.mgmt
    mobj = f"{host} {mgmt.interface}"
    if not has("interfaces", mgmt.interface, "unit", "0", "family", "inet", "address"):
        add(ERROR, "management", mobj, "management interface has no address")
    if mgmt.vrf == "mgmt_junos" and not has("system", "management-instance"):
        add(ERROR, "management", mobj, "'system management-instance' missing")
    route = ("routing-instances", mgmt.vrf, "routing-options", "static", "route", "0.0.0.0/0")
    if not has(*route):
        add(ERROR, "management", mobj, f"no default route in {mgmt.vrf}")

    if kind != KIND_BOOTSTRAP:
        for intf in context.interfaces:
            addressed = has("interfaces", intf.name, "unit", "0", "family", "inet", "address")
            member = has("interfaces", intf.name, "ether-options", "802.3ad")
            if not addressed and not member:
                add(
                    ERROR,
                    "cabled-interface",
                    f"{host} {intf.name}",
                    "cabled interface without an address or LAG membership",
                )
    return findings


def lint_config(
    *, text: str, context: DeviceContext, kind: str, parser: str = "fast"
) -> list[Finding]:
    """Every finding for one rendered config; an empty list means it may be pushed."""
    if context.platform == PLATFORM_JUNOS:
        return _lint_junos(text, context, kind)
    tree = ios_tree_ciscoconfparse2(text) if parser == "ciscoconfparse2" else ios_tree(text)
    return _lint_ios(tree, context, kind)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)
