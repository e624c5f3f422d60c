"""The Junos configuration model of the lab: a statement tree, its parsers and its renderers.

A configuration is a tree of :class:`Node`. Each child is keyed by a *step*: a tuple of one or
two words, as Junos shows them on one line (``("system",)``, ``("host-name", "r1")``,
``("unit", "0")``, ``("ge-0/0/0",)`` under ``interfaces``). Which words form a step is decided
by a small schema (:data:`KINDS`): a keyword is a container (``system``), a named entry that
takes a name and may hold children (``unit 0``, ``user admin``), a single-valued leaf
(``host-name r1`` — setting it again replaces the value) or a list of bare names
(``interfaces``, ``routing-instances``). The same schema drives the ``set`` parser, the curly
(text) parser, the XML reader and the renderers, so the four forms round-trip.

The schema is not Junos's (thousands of statements): it knows the statements turnup's
templates use and the common ones around them. Where it knows the complete list of children
(top level, ``system``, ``system services``, ``protocols``, an interface, a unit, …) an unknown
word is a ``syntax error`` exactly where Junos would say it, so a typo in a template is caught;
below statements it does not know it accepts any words (a one-word tail is a flag, a two-word
tail a value).

Also here: Junos password hashes (``$6$`` SHA-512 crypt, ``$5$`` SHA-256 crypt and ``$1$``
MD5 crypt) in pure Python — the stdlib ``crypt`` module is deprecated (and warns) on 3.11.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------------------------
C = "container"  # no argument; presence when empty ("ssh;")
N = "named"  # one argument (a name), may hold children; several may coexist ("unit 0")
V = "value"  # one argument, single-valued: setting it again replaces ("host-name r1")
L = "list"  # children are bare names ("interfaces { ge-0/0/0 { … } }")
E = "entry"  # a child of a list ("ge-0/0/0")

_KIND_WORDS = {
    C: """system services netconf login root-authentication authentication syslog ntp chassis
        aggregated-devices ethernet routing-options static protocols ospf ospf3 bgp isis ldp
        mpls rsvp lldp lldp-med snmp engine-id v3 usm local-engine remote-engine vacm
        security-to-group access default-context-prefix aggregated-ether-options lacp
        ether-options gigether-options policy-options firewall from then class-of-service
        forwarding-options event-options security management-instance traffic-engineering
        log-updown disable passive include exclude active accept reject discard archival
        telnet web-management rest ftp xnm-clear-text xnm-ssl vlan-tagging
        flexible-vlan-tagging no-redirects bfd-liveness-detection graceful-restart
        multipath remove-private ports console auxiliary commit processes bfd switch-options
        ethernet-switching-options poe alarms""",
    N: """user unit family group neighbor area interface route host file server view oid
        security-model security-name security-level address name-server term filter
        policy-statement prefix-list community next-hop import export member members
        ssh-rsa ssh-ecdsa ssh-ed25519 domain-search authentication-order apply-groups
        interface-range vlan qualified-next-hop policer prefix-list-filter""",
    V: """version host-name domain-name time-zone description mtu class encrypted-password
        peer-as type local-address cluster local-as message announcement device-count
        802.3ad root-login protocol-version routing-instance reference-bandwidth
        interface-type metric location contact authentication-key privacy-key read-view
        write-view notify-view router-id autonomous-system instance-type vlan-id
        encapsulation speed hold-time connection-limit rate-limit uid full-name
        source-address local port preference priority bandwidth native-vlan-id
        interface-mode link-mode vlan-id-list max-configurations-on-flash
        max-configuration-rollbacks boot-server retry-options idle-timeout level
        authentication-type key minimum-interval multiplier cost""",
    L: """interfaces routing-instances groups vlans logical-systems bridge-domains""",
}
KINDS: dict[str, str] = {w: kind for kind, words in _KIND_WORDS.items() for w in words.split()}
# Context overrides: "<parent> <keyword>" (parent = the enclosing statement's keyword).
CONTEXT_KINDS = {
    "login class": N,  # a login class definition (under "user" it is the user's class)
    "security-name group": V,  # vacm security-to-group … group G
    "ntp server": N,
    "syslog user": N,  # "user * { any emergency; }"
    "file user": V,  # facility "user info" inside a syslog file
    "host user": V,
    "ssh port": V,
    "security-zones interfaces": L,
    "services ssh": C,
}

# Contexts whose complete list of children the lab knows: anything else is a syntax error.
CLOSED: dict[str, set[str]] = {
    "": set(
        """version system chassis interfaces snmp routing-options protocols policy-options
        firewall routing-instances security class-of-service forwarding-options groups
        apply-groups services vlans event-options access poe switch-options
        ethernet-switching-options bridge-domains virtual-chassis logical-systems applications
        accounting-options multi-chassis schedulers dynamic-profiles access-profile tenants
        fabric""".split()
    ),
    "system": set(
        """host-name domain-name domain-search time-zone root-authentication login services
        syslog ntp name-server management-instance archival ports processes
        authentication-order radius-server tacplus-server accounting location backup-router
        static-host-mapping commit max-configurations-on-flash max-configuration-rollbacks
        internet-options no-redirects no-redirects-ipv6 no-ping-record-route
        no-ping-time-stamp arp switchover-on-routing-crash dump-on-panic extensions license
        scripts auto-snapshot default-address-selection encrypt-configuration-files
        master-password tracing use-imported-time-zones phone-home allow-v4mapped-packets
        ddos-protection saved-core-context configuration-database compress-configuration-files
        inet6-backup-router mirror-flash-on-disk fips radius-options apply-groups
        host-name-resolution no-multicast-echo no-source-route ntp-server
        source-address""".split()
    ),
    "system services": set(
        """ssh netconf telnet ftp finger web-management rest xnm-clear-text xnm-ssl dhcp
        dhcp-local-server dns extension-service outbound-ssh service-deployment
        subscriber-management resource-monitor tftp-server sftp-server
        flow-monitoring""".split()
    ),
    "system login": set(
        """user class message announcement password retry-options deny-sources
        idle-timeout""".split()
    ),
    "root-authentication": set(
        """encrypted-password plain-text-password ssh-rsa ssh-ecdsa ssh-ed25519
        load-key-file no-public-keys""".split()
    ),
    "user authentication": set(
        """encrypted-password plain-text-password ssh-rsa ssh-ecdsa ssh-ed25519
        load-key-file no-public-keys""".split()
    ),
    "protocols": set(
        """ospf ospf3 bgp isis ldp mpls rsvp lldp lldp-med lacp rstp mstp vstp stp pim igmp
        igmp-snooping mld msdp bfd vrrp router-advertisement rip ripng l2circuit l2vpn evpn
        vpls sflow oam connections dcbx neighbor-discovery router-discovery layer2-control
        l2-learning mvrp uplink-failure-detection amt pcep source-packet-routing iccp ppm
        apply-groups""".split()
    ),
    "interfaces*": set(
        """description unit mtu disable vlan-tagging flexible-vlan-tagging
        stacked-vlan-tagging encapsulation gigether-options ether-options
        aggregated-ether-options speed link-mode mac native-vlan-id hold-time esi
        per-unit-scheduler hierarchical-scheduler damping traceoptions apply-groups enable
        no-traps traps optics-options framing auto-negotiation no-auto-negotiation
        redundant-ether-options fabric-options gratuitous-arp-reply
        no-gratuitous-arp-request number-of-sub-ports passive-monitor-mode
        interface-range""".split()
    ),
    "unit": set(
        """description family vlan-id vlan-id-list disable encapsulation vlan-tags proxy-arp
        bandwidth apply-groups enable no-traps traps mac input-vlan-map output-vlan-map
        native-inner-vlan-id""".split()
    ),
}
FAMILIES = set(
    """inet inet6 mpls iso ethernet-switching bridge vpls ccc tcc any inet-vpn inet6-vpn
    mlppp mlfr-end-to-end multiservice evpn""".split()
)
# Leaf lists: several bare values shown as "next-hop [ a b ];" and <next-hop>a</next-hop>.
LEAF_LISTS = {"next-hop", "import", "export", "members", "apply-groups", "domain-search"}
# Named entries shown on one line when their only child is a leaf ("route 0/0 next-hop x;").
ONELINERS = {"route"}
SECRET = {"encrypted-password", "authentication-key", "privacy-key", "secret", "pre-shared-key"}
SINGULAR = {
    "interfaces": "interface",
    "routing-instances": "instance",
    "groups": "groups",
    "vlans": "vlan",
    "logical-systems": "logical-systems",
    "bridge-domains": "domain",
}
XML_TAG = {"802.3ad": "ieee-802.3ad"}
XML_WORD = {tag: word for word, tag in XML_TAG.items()}
TOP_ORDER = (
    "version system chassis services security interfaces snmp forwarding-options event-options"
    " routing-options protocols class-of-service firewall policy-options access"
    " routing-instances vlans"
).split()

_INTERFACE_RE = re.compile(
    r"^(?:[a-z][a-z0-9]*(?:-\d+/\d+/\d+(?::\d+)?)?|re\d:mgmt-\d+|interface-range)"
    r"(?:\.\d+)?$"
)
_NUMERIC = {
    "unit": (0, 1073741823),
    "mtu": (256, 16000),
    "vlan-id": (0, 4094),
    "device-count": (1, 1024),
    "metric": (0, 16777215),
    "uid": (100, 64000),
    "local-as": (1, 4294967295),
    "peer-as": (1, 4294967295),
    "autonomous-system": (1, 4294967295),
    "native-vlan-id": (0, 4094),
}
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class ConfigSyntaxError(ValueError):
    """A statement Junos would refuse. ``index`` is the word the caret points at."""

    def __init__(self, message: str, index: int, word: str = ""):
        super().__init__(message)
        self.message = message
        self.index = index
        self.word = word


def _key(ctx: list[str], word: str) -> str | None:
    """The kind of ``word`` inside the statement path whose keywords are ``ctx``."""
    if len(ctx) >= 1 and f"{ctx[-1]} {word}" in CONTEXT_KINDS:
        return CONTEXT_KINDS[f"{ctx[-1]} {word}"]
    return KINDS.get(word)


def _closed(ctx: list[str]) -> set[str] | None:
    if not ctx:
        return CLOSED[""]
    if len(ctx) >= 2 and f"{ctx[-2]} {ctx[-1]}" in CLOSED:
        return CLOSED[f"{ctx[-2]} {ctx[-1]}"]
    if ctx[-1] in ("system", "protocols", "interfaces*") and len(ctx) > 2:
        return None  # e.g. "snmp … system", a routing instance's protocols
    if ctx[-1] in ("system", "protocols", "interfaces*", "unit", "root-authentication"):
        return CLOSED[ctx[-1]]
    return None


def _validate(ctx: list[str], word: str, value: str, index: int) -> None:
    if word in _NUMERIC:
        low, high = _NUMERIC[word]
        text = value
        if word in ("peer-as", "autonomous-system", "local-as") and "." in value:
            text = value.replace(".", "", 1)  # asdot notation
        if not text.isdigit():
            raise ConfigSyntaxError(f"invalid numeric value: '{value}'", index, value)
        if not low <= int(value.split(".")[0] if "." in value else value) <= high:
            raise ConfigSyntaxError(
                f"Value {value} is not within range ({low}..{high})", index, value
            )
    elif word == "family" and value not in FAMILIES:
        raise ConfigSyntaxError("syntax error.", index, value)
    elif word == "address" and ctx and ctx[-1] in ("inet", "inet6"):
        try:
            net = ipaddress.ip_interface(value)
        except ValueError:
            raise ConfigSyntaxError(f"invalid prefix: {value}", index, value) from None
        if (net.version == 4) != (ctx[-1] == "inet"):
            raise ConfigSyntaxError(f"invalid prefix: {value}", index, value)
    elif word == "host-name" and not _HOSTNAME_RE.match(value):
        raise ConfigSyntaxError(f"invalid hostname: '{value}'", index, value)
    elif word in ("router-id", "local-address") or (word == "neighbor" and "bgp" in ctx):
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ConfigSyntaxError(f"invalid ip address: '{value}'", index, value) from None
    elif word == "route" and "static" in ctx:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ConfigSyntaxError(f"invalid prefix: {value}", index, value) from None


# --------------------------------------------------------------------------------------------
# the tree
# --------------------------------------------------------------------------------------------
Step = tuple[str, ...]


class Node:
    """One statement. ``explicit``: set by itself (a presence statement such as ``ssh;``)."""

    __slots__ = ("children", "kind", "explicit")

    def __init__(self, kind: str = C, explicit: bool = False):
        self.children: dict[Step, Node] = {}
        self.kind = kind
        self.explicit = explicit

    def copy(self) -> Node:
        node = Node(self.kind, self.explicit)
        node.children = {step: child.copy() for step, child in self.children.items()}
        return node

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and self.children == other.children

    __hash__ = None  # type: ignore[assignment]

    def get(self, *steps: Step) -> Node | None:
        node: Node | None = self
        for step in steps:
            if node is None:
                return None
            node = node.children.get(step)
        return node

    def find(self, path: str) -> Node | None:
        """A child by keyword path, ignoring values: ``find("system root-authentication")``."""
        node: Node | None = self
        for word in path.split():
            if node is None:
                return None
            node = next((c for s, c in node.children.items() if s[0] == word), None)
        return node

    def values(self, keyword: str) -> list[str]:
        """The values of the ``keyword`` children (``values("address")``)."""
        return [s[1] for s in self.children if s[0] == keyword and len(s) > 1]

    def value(self, keyword: str) -> str | None:
        found = self.values(keyword)
        return found[0] if found else None


@dataclass
class Statement:
    """A parsed ``set``/``delete`` statement: the steps below the current edit path."""

    steps: list[Step]
    kinds: list[str]
    wildcard_value: bool = False  # "delete system host-name": any value


def contexts(path: Iterable[Step], kinds: Iterable[str]) -> list[str]:
    ctx = []
    for step, kind in zip(path, kinds, strict=False):
        if kind == E:
            ctx.append(f"{ctx[-1]}*" if ctx else "*")
        elif step[0] == "family" and len(step) > 1:
            ctx.append(step[1])
        else:
            ctx.append(step[0])
    return ctx


def parse_words(
    words: list[str], ctx: list[str], parent_kind: str = C, *, delete: bool = False, offset: int = 0
) -> list[Statement]:
    """Split ``words`` (a statement below the path whose contexts are ``ctx``) into steps.

    Junos lets one line carry sibling statements after a value (``user bob class super-user
    authentication …``): each becomes its own :class:`Statement`, sharing the steps above."""
    steps: list[Step] = []
    kinds: list[str] = []
    ctx = list(ctx)
    i = 0
    while i < len(words):
        word = words[i]
        if parent_kind == L:
            if ctx == ["interfaces"] and not _INTERFACE_RE.match(word):
                raise ConfigSyntaxError(f"invalid interface type in '{word}'", offset + i, word)
            steps.append((word,))
            kinds.append(E)
            ctx.append(f"{ctx[-1]}*" if ctx else "*")
            parent_kind = E
            i += 1
            continue
        kind = _key(ctx, word)
        allowed = _closed(ctx)
        if allowed is not None and word not in allowed:
            raise ConfigSyntaxError("syntax error.", offset + i, word)
        remaining = len(words) - i - 1
        if kind is None:
            kind = V if remaining == 1 else C
        if kind in (C, L):
            steps.append((word,))
            ctx.append(word)
            i += 1
        else:
            if remaining == 0:
                if delete:
                    steps.append((word,))
                    kinds.append(kind)
                    return [Statement(steps, kinds, True)]
                raise ConfigSyntaxError("missing argument.", offset + i + 1, "")
            value = words[i + 1]
            _validate(ctx, word, value, offset + i + 1)
            if kind == V and i + 2 < len(words):
                # siblings after a value: "class super-user authentication …"
                first = Statement(steps + [(word, value)], kinds + [kind])
                rest = parse_words(
                    words[i + 2 :], ctx, parent_kind, delete=delete, offset=offset + i + 2
                )
                return [first] + [
                    Statement(steps + r.steps, kinds + r.kinds, r.wildcard_value) for r in rest
                ]
            steps.append((word, value))
            ctx.append(value if word == "family" else word)
            i += 2
        kinds.append(kind)
        parent_kind = kind
    return [Statement(steps, kinds)]


def set_path(root: Node, steps: list[Step], kinds: list[str]) -> None:
    node = root
    for step, kind in zip(steps, kinds, strict=True):
        if kind == V:
            for other in [s for s in node.children if s[0] == step[0] and s != step]:
                del node.children[other]
        child = node.children.get(step)
        if child is None:
            child = node.children[step] = Node(kind)
        node = child
    node.explicit = True


def delete_path(root: Node, steps: list[Step], wildcard: bool = False) -> bool:
    """Remove the statement; prune parents left empty that were not set by themselves."""
    trail = [root]
    node = root
    for step in steps[:-1]:
        node = node.children.get(step)  # type: ignore[assignment]
        if node is None:
            return False
        trail.append(node)
    last = steps[-1] if steps else None
    if last is None:
        found = bool(root.children)
        root.children.clear()
        return found
    if wildcard:
        victims = [s for s in node.children if s[0] == last[0]]
    else:
        victims = [last] if last in node.children else []
    if not victims:
        return False
    for victim in victims:
        del node.children[victim]
    for parent, step in zip(reversed(trail[:-1]), reversed(steps[:-1]), strict=False):
        child = parent.children[step]
        if child.children or child.explicit:
            break
        del parent.children[step]
    return True


def merge(into: Node, other: Node, *, replace: bool = False) -> None:
    """Merge ``other`` into ``into`` (load merge); single-valued leaves are replaced."""
    if replace:
        into.children = {}
    for step, child in other.children.items():
        if child.kind == V:
            for old in [s for s in into.children if s[0] == step[0] and s != step]:
                del into.children[old]
        mine = into.children.get(step)
        if mine is None:
            into.children[step] = child.copy()
        else:
            mine.explicit = mine.explicit or child.explicit
            merge(mine, child)


# --------------------------------------------------------------------------------------------
# tokenizing and the text (curly) and set parsers
# --------------------------------------------------------------------------------------------
@dataclass
class Token:
    text: str
    line: int
    col: int
    quoted: bool = False


def tokenize(text: str, *, curly: bool = False) -> list[Token]:
    """Words, quoted strings and, in curly text, ``{ } ; [ ]``."""
    tokens: list[Token] = []
    line, col, i = 1, 0, 0
    n = len(text)
    specials = "{};[]" if curly else ""
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, col, i = line + 1, 0, i + 1
            continue
        if ch.isspace():
            i, col = i + 1, col + 1
            continue
        if curly and ch == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if curly and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            continue
        if ch == '"':
            # Junos keeps a quoted string as typed, escapes included ("a\nb" stays a\nb)
            j, out = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    out.append(text[j])
                    j += 1
                out.append(text[j])
                j += 1
            tokens.append(Token("".join(out), line, col, True))
            col += j + 1 - i
            i = j + 1
            continue
        if ch in specials:
            tokens.append(Token(ch, line, col))
            i, col = i + 1, col + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in specials and text[j] != '"':
            j += 1
        tokens.append(Token(text[i:j], line, col))
        col += j - i
        i = j
    return tokens


def split_words(line: str) -> list[str]:
    """The words of one set/CLI line (quotes removed)."""
    return [t.text for t in tokenize(line)]


@dataclass
class LoadError:
    line: int
    col: int
    word: str
    message: str
    statement: str = ""


def expand_brackets(words: list[str]) -> list[list[str]]:
    if "[" not in words:
        return [words]
    start = words.index("[")
    end = words.index("]", start) if "]" in words[start:] else len(words)
    return [words[:start] + [item] for item in words[start + 1 : end]]


def parse_set_lines(
    text: str, root: Node, *, base: tuple[list[Step], list[str]] = ([], [])
) -> list[LoadError]:
    """Apply ``set``/``delete`` lines (``load set``) to ``root``; returns the errors.

    Good lines are applied even when others fail, as Junos does."""
    errors: list[LoadError] = []
    base_steps, base_kinds = base
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        tokens = tokenize(stripped)
        words = [t.text for t in tokens]
        verb = words[0]
        if verb not in ("set", "delete", "deactivate", "activate"):
            errors.append(LoadError(number, 0, verb, f"syntax error: {verb}", stripped))
            continue
        for expanded in expand_brackets(words[1:]):
            try:
                apply_statement(root, verb, expanded, base_steps, base_kinds)
            except ConfigSyntaxError as err:
                col = tokens[err.index + 1].col if err.index + 1 < len(tokens) else len(stripped)
                errors.append(LoadError(number, col, err.word, err.message, stripped))
    return errors


def apply_statement(
    root: Node, verb: str, words: list[str], base_steps: list[Step], base_kinds: list[str]
) -> bool:
    """``set``/``delete`` ``words`` below the edit path; False when a delete found nothing."""
    parent_kind = base_kinds[-1] if base_kinds else C
    statements = parse_words(
        words, contexts(base_steps, base_kinds), parent_kind, delete=verb == "delete"
    )
    found = True
    for statement in statements:
        steps = list(base_steps) + statement.steps
        kinds = list(base_kinds) + statement.kinds
        if verb == "set":
            if not statement.steps:
                raise ConfigSyntaxError("missing argument.", 0, "")
            set_path(root, steps, kinds)
        elif verb == "delete":
            found = delete_path(root, steps, statement.wildcard_value) and found
    return found


def parse_curly(text: str) -> tuple[Node, list[LoadError], list[list[Step]]]:
    """Parse curly-brace text. Returns the tree, the errors and the ``replace:`` paths."""
    root = Node()
    errors: list[LoadError] = []
    replaced: list[list[Step]] = []
    tokens = tokenize(text, curly=True)
    path_steps: list[Step] = []
    path_kinds: list[str] = []
    pushed: list[int] = []  # how many steps each open "{" added to the path
    words: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.quoted or tok.text not in ("{", ";", "}"):
            words.append(tok)
            i += 1
            continue
        if tok.text == "}":
            if words or not pushed:
                errors.append(LoadError(tok.line, tok.col, "}", "syntax error"))
                words = []
            if pushed:
                count = pushed.pop()
                node = root.get(*path_steps)
                if node is not None and not node.children:
                    node.explicit = True
                if count:
                    path_steps, path_kinds = path_steps[:-count], path_kinds[:-count]
            i += 1
            continue
        ws = [w.text for w in words]
        replace = False
        if ws and ws[0] in ("replace:", "inactive:", "protect:"):
            replace = ws[0] == "replace:"
            ws = ws[1:]
        elif ws and ws[0].startswith(("replace:", "inactive:", "protect:")):
            replace = ws[0].startswith("replace:")
            ws[0] = ws[0].split(":", 1)[1]
        ctx = contexts(path_steps, path_kinds)
        try:
            if not ws or (tok.text == "{" and "[" in ws):
                raise ConfigSyntaxError("syntax error", 0, tok.text)
            statements = []
            for one in expand_brackets(ws):
                statements += parse_words(one, ctx, parent_kind_of(path_kinds))
        except ConfigSyntaxError as err:
            bad = words[min(err.index, len(words) - 1)] if words else tok
            errors.append(LoadError(bad.line, bad.col, err.word or bad.text, err.message))
            words = []
            i += 1
            if tok.text == "{":  # skip the whole block
                depth = 1
                while i < len(tokens) and depth:
                    if not tokens[i].quoted:
                        depth += {"{": 1, "}": -1}.get(tokens[i].text, 0)
                    i += 1
            continue
        for statement in statements:
            full = path_steps + statement.steps
            kinds = path_kinds + statement.kinds
            if replace:
                replaced.append(full)
            set_path(root, full, kinds)
        if tok.text == "{":
            last = statements[-1]
            path_steps = path_steps + last.steps
            path_kinds = path_kinds + last.kinds
            pushed.append(len(last.steps))
            node = root.get(*path_steps)
            if node is not None:
                node.explicit = False
        words = []
        i += 1
    if words or pushed:
        last_tok = tokens[-1] if tokens else Token("", 1, 0)
        errors.append(LoadError(last_tok.line, last_tok.col, last_tok.text, "syntax error"))
    return root, errors, replaced


def parent_kind_of(kinds: list[str]) -> str:
    return kinds[-1] if kinds else C


# --------------------------------------------------------------------------------------------
# renderers: curly, set, diff
# --------------------------------------------------------------------------------------------
_PLAIN_RE = re.compile(r"^[^\s;{}\[\]#\"'$!&|<>()\\]+$")


def quote(word: str) -> str:
    """A value as Junos shows it: quoted when it needs to be (escapes are kept as typed)."""
    if _PLAIN_RE.match(word):
        return word
    return '"' + re.sub(r'(?<!\\)"', '\\"', word) + '"'


def step_text(step: Step) -> str:
    return " ".join(quote(w) for w in step)


def _ordered(node: Node, top: bool) -> list[tuple[Step, Node]]:
    items = list(node.children.items())
    if top:
        rank = {w: i for i, w in enumerate(TOP_ORDER)}
        items.sort(key=lambda item: rank.get(item[0][0], len(rank)))
    return items


def render_curly(node: Node, indent: int = 0, *, top: bool = True) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    items = _ordered(node, top)
    done: set[Step] = set()
    for step, child in items:
        if step in done:
            continue
        word = step[0]
        if word in LEAF_LISTS and len(step) > 1 and not child.children:
            group = [s for s, c in items if s[0] == word and len(s) > 1 and not c.children]
            done.update(group)
            if len(group) > 1:
                values = " ".join(quote(s[1]) for s in group)
                lines.append(f"{pad}{word} [ {values} ];")
                continue
        text = step_text(step)
        if not child.children:
            secret = " ## SECRET-DATA" if word in SECRET else ""
            lines.append(f"{pad}{text};{secret}")
        elif (
            word in ONELINERS
            and len(child.children) == 1
            and not next(iter(child.children.values())).children
        ):
            (only,) = child.children
            lines.append(f"{pad}{text} {step_text(only)};")
        else:
            lines.append(f"{pad}{text} {{")
            lines.extend(render_curly(child, indent + 4, top=False))
            lines.append(f"{pad}}}")
    return lines


def render_set(node: Node, prefix: str = "set", *, top: bool = True) -> list[str]:
    lines: list[str] = []
    for step, child in _ordered(node, top):
        here = f"{prefix} {step_text(step)}"
        if not child.children:
            lines.append(here)
        else:
            lines.extend(render_set(child, here, top=False))
    return lines


def render_diff(old: Node, new: Node, path: list[Step] | None = None) -> list[str]:
    """``show | compare``: Junos's ``[edit …]`` sections with ``+``/``-`` lines."""
    path = path or []
    lines: list[str] = []
    here: list[str] = []
    nested: list[str] = []
    for step, child in old.children.items():
        if step not in new.children:
            here.extend("-  " + line for line in render_curly(_single(step, child), top=False))
    for step, child in new.children.items():
        before = old.children.get(step)
        if before is None:
            here.extend("+  " + line for line in render_curly(_single(step, child), top=False))
        elif before != child:
            if not child.children or not before.children:
                here.extend("-  " + line for line in render_curly(_single(step, before), top=False))
                here.extend("+  " + line for line in render_curly(_single(step, child), top=False))
            else:
                nested.extend(render_diff(before, child, path + [step]))
    if here:
        where = " ".join(step_text(s) for s in path)
        lines.append(f"[edit {where}]" if where else "[edit]")
        lines.extend(here)
    return lines + nested


def _single(step: Step, child: Node) -> Node:
    holder = Node()
    holder.children[step] = child
    return holder


# --------------------------------------------------------------------------------------------
# XML (get-configuration without format, load-configuration format="xml")
# --------------------------------------------------------------------------------------------
def to_xml(node: Node, parent: ET.Element) -> None:
    family: ET.Element | None = None
    for step, child in node.children.items():
        word = step[0]
        tag = XML_TAG.get(word, word)
        if child.kind == L:
            el = ET.SubElement(parent, tag)
            for entry_step, entry in child.children.items():
                item = ET.SubElement(el, SINGULAR.get(word, word))
                ET.SubElement(item, "name").text = entry_step[0]
                to_xml(entry, item)
            continue
        if child.kind == E:
            item = ET.SubElement(parent, "name")
            item.text = word
            continue
        if word == "family" and len(step) > 1:
            if family is None:
                family = ET.SubElement(parent, "family")
            to_xml(child, ET.SubElement(family, step[1]))
            continue
        el = ET.SubElement(parent, tag)
        if len(step) == 1:
            to_xml(child, el)
        elif child.kind == V or (word in LEAF_LISTS and not child.children):
            el.text = step[1]
        else:
            ET.SubElement(el, "name").text = step[1]
            to_xml(child, el)


def config_xml(node: Node) -> ET.Element:
    root = ET.Element("configuration")
    to_xml(node, root)
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass
class XmlOp:
    """A ``delete``/``replace`` attribute met while reading XML."""

    op: str
    steps: list[Step]


def from_xml(element: ET.Element) -> tuple[Node, list[XmlOp]]:
    """Read a ``<configuration>`` element (or its children) into a tree."""
    root = Node()
    ops: list[XmlOp] = []
    _read(element, root, [], [], ops)
    return root, ops


def _op_of(el: ET.Element) -> str | None:
    attrs = {_local(k): v for k, v in el.attrib.items()}
    if attrs.get("delete") == "delete" or attrs.get("operation") == "delete":
        return "delete"
    if attrs.get("replace") == "replace" or attrs.get("operation") == "replace":
        return "replace"
    return None


def _read(
    el: ET.Element, root: Node, steps: list[Step], kinds: list[str], ops: list[XmlOp]
) -> None:
    ctx = contexts(steps, kinds)
    for child in el:
        if not isinstance(child.tag, str):
            continue
        word = XML_WORD.get(_local(child.tag), _local(child.tag))
        kind = _key(ctx, word)
        allowed = _closed(ctx)
        if allowed is not None and word not in allowed and not (kinds and kinds[-1] == L):
            raise ConfigSyntaxError("syntax error", 0, word)
        subs = [c for c in child if isinstance(c.tag, str)]
        name_el = next((c for c in subs if _local(c.tag) == "name"), None)
        text = (child.text or "").strip()
        if kinds and kinds[-1] == L:
            if name_el is None:
                raise ConfigSyntaxError("missing name", 0, word)
            step, kind = (name_el.text or "",), E
            rest = [c for c in subs if c is not name_el]
        elif word == "family":
            for fam in subs:
                fam_steps = steps + [("family", _local(fam.tag))]
                fam_kinds = kinds + [N]
                set_path(root, fam_steps, fam_kinds)
                root.get(*fam_steps).explicit = not list(fam)  # type: ignore[union-attr]
                _note(fam, fam_steps, ops)
                _read(fam, root, fam_steps, fam_kinds, ops)
            continue
        elif name_el is not None:
            step, kind = (word, (name_el.text or "").strip()), kind or N
            rest = [c for c in subs if c is not name_el]
        elif not subs and text:
            step, kind = (word, text), kind or V
            rest = []
        else:
            step, kind = (word,), (kind if kind in (C, L) else C)
            rest = subs
        full, full_kinds = steps + [step], kinds + [kind]
        op = _op_of(child)
        if op == "delete":
            if len(step) == 1 and kind == V:
                ops.append(XmlOp("delete-any", full))
            else:
                ops.append(XmlOp("delete", full))
            continue
        set_path(root, full, full_kinds)
        node = root.get(*full)
        if node is not None:
            node.explicit = not rest
        if op == "replace":
            ops.append(XmlOp("replace", full))
        if rest:
            holder = ET.Element("x")
            holder.extend(rest)
            _read(holder, root, full, full_kinds, ops)


def _note(el: ET.Element, steps: list[Step], ops: list[XmlOp]) -> None:
    op = _op_of(el)
    if op:
        ops.append(XmlOp(op, steps))


def apply_load(
    candidate: Node, loaded: Node, action: str, replaced: Iterable[list[Step]] = ()
) -> Node:
    """Combine a loaded tree with the candidate: ``merge``, ``override``, ``replace``."""
    if action == "override":
        return loaded.copy()
    result = candidate.copy()
    if action == "replace":
        for steps in replaced:
            delete_path(result, steps)
    merge(result, loaded)
    return result


def apply_xml_ops(tree: Node, loaded: Node, ops: list[XmlOp]) -> None:
    for op in ops:
        if op.op == "replace":
            target = tree.get(*op.steps)
            source = loaded.get(*op.steps)
            if target is not None and source is not None:
                target.children = source.copy().children
    for op in ops:
        if op.op in ("delete", "delete-any"):
            delete_path(tree, op.steps, wildcard=op.op == "delete-any")


# --------------------------------------------------------------------------------------------
# commit checks
# --------------------------------------------------------------------------------------------
@dataclass
class CommitProblem:
    path: str  # "[edit]"
    statement: str  # "'system'"
    message: str  # "Missing mandatory statement: 'root-authentication'"


def check(tree: Node) -> list[CommitProblem]:
    """What Junos refuses at commit (the mandatory statements the lab models)."""
    problems = []
    root_auth = tree.find("system root-authentication")
    if root_auth is None or not root_auth.children:
        problems.append(
            CommitProblem(
                "[edit]", "'system'", "Missing mandatory statement: 'root-authentication'"
            )
        )
    login = tree.find("system login")
    if login is not None:
        for step, user in login.children.items():
            if step[0] == "user" and user.value("class") is None:
                problems.append(
                    CommitProblem(
                        "[edit system login]",
                        f"'user {step[1]}'",
                        "Missing mandatory statement: 'class'",
                    )
                )
    return problems


# --------------------------------------------------------------------------------------------
# password hashes ($1$ MD5, $5$ SHA-256, $6$ SHA-512 crypt)
# --------------------------------------------------------------------------------------------
_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SHA512_ORDER = [
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
    (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54),
    (34, 55, 13), (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60),
    (40, 61, 19), (62, 20, 41),
]  # fmt: skip
_SHA256_ORDER = [
    (0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14), (15, 25, 5), (6, 16, 26),
    (27, 7, 17), (18, 28, 8), (9, 19, 29),
]  # fmt: skip


def _b64(b2: int, b1: int, b0: int, count: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(count):
        out.append(_ITOA64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _sha_crypt(password: bytes, salt: bytes, rounds: int, algo: str) -> str:
    """SHA-crypt as specified by Ulrich Drepper (glibc's ``$5$``/``$6$``)."""
    new = hashlib.sha512 if algo == "6" else hashlib.sha256
    size = 64 if algo == "6" else 32
    b = new(password + salt + password).digest()
    a = new(password + salt)
    n = len(password)
    while n > size:
        a.update(b)
        n -= size
    a.update(b[:n])
    n = len(password)
    while n:
        a.update(b if n & 1 else password)
        n >>= 1
    digest = a.digest()
    dp = new(password * len(password)).digest()
    p = (dp * (len(password) // size + 1))[: len(password)]
    ds = new(salt * (16 + digest[0])).digest()
    s = (ds * (len(salt) // size + 1))[: len(salt)]
    c = digest
    for r in range(rounds):
        h = new(p if r & 1 else c)
        if r % 3:
            h.update(s)
        if r % 7:
            h.update(p)
        h.update(c if r & 1 else p)
        c = h.digest()
    if algo == "6":
        out = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _SHA512_ORDER)
        out += _b64(0, 0, c[63], 2)
    else:
        out = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _SHA256_ORDER)
        out += _b64(0, c[31], c[30], 3)
    return out


def _md5_crypt(password: bytes, salt: bytes) -> str:
    """Poul-Henning Kamp's MD5 crypt (``$1$``), still seen on older Junos configs."""
    magic = b"$1$"
    final = hashlib.md5(password + salt + password).digest()
    ctx = hashlib.md5(password + magic + salt)
    n = len(password)
    while n > 0:
        ctx.update(final[: min(16, n)])
        n -= 16
    n = len(password)
    while n:
        ctx.update(b"\0" if n & 1 else password[:1])
        n >>= 1
    final = ctx.digest()
    for i in range(1000):
        h = hashlib.md5(password if i & 1 else final)
        if i % 3:
            h.update(salt)
        if i % 7:
            h.update(password)
        h.update(final if i & 1 else password)
        final = h.digest()
    f = final
    out = "".join(
        _b64(f[a], f[b], f[c], 4)
        for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5))
    )
    return out + _b64(0, 0, f[11], 2)


def crypt_password(password: str, setting: str) -> str | None:
    """The crypt string of ``password`` with the salt/rounds of ``setting``; None if unknown."""
    parts = setting.split("$")
    if len(parts) < 3 or parts[0] != "":
        return None
    algo = parts[1]
    raw = password.encode()
    if algo == "1":
        salt = parts[2][:8]
        return f"$1${salt}${_md5_crypt(raw, salt.encode())}"
    if algo not in ("5", "6"):
        return None
    rounds, custom = 5000, False
    rest = parts[2:]
    if rest[0].startswith("rounds="):
        try:
            rounds = max(1000, min(999_999_999, int(rest[0][7:])))
        except ValueError:
            return None
        custom = True
        rest = rest[1:]
    if not rest:
        return None
    salt = rest[0][:16]
    prefix = f"${algo}$" + (f"rounds={rounds}$" if custom else "")
    return f"{prefix}{salt}${_sha_crypt(raw, salt.encode(), rounds, algo)}"


def verify_password(password: str, hashed: str) -> bool:
    computed = crypt_password(password, hashed)
    return computed is not None and secrets.compare_digest(computed, hashed)


def hash_password(password: str) -> str:
    """A new ``$6$`` hash, as Junos stores a ``plain-text-password`` typed at the CLI."""
    salt = "".join(secrets.choice(_ITOA64) for _ in range(16))
    result = crypt_password(password, f"$6${salt}$")
    assert result is not None
    return result
