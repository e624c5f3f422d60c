"""A factory-fresh Cisco IOS-XE router (C8300-style) for the lab.

What it does, as the console of a real box does it: boot output, the initial configuration
dialog, the autoinstall prompt, the forced enable-secret prompts of IOS-XE 17.x, "Press RETURN
to get started!", unsolicited syslog (``%LINK-3-UPDOWN``, PnP discovery, ``%SYS-5-CONFIG_I``),
user/privileged/config modes and sub-modes with abbreviations, ``--More--`` paging,
``write memory`` / ``copy running-config startup-config``, ``reload`` (and ``reload in N``),
``configure replace``, ``configure terminal revert timer N`` / ``configure confirm``, show
commands whose output ntc-templates parses, and ``% Invalid input detected at '^'
marker.`` with the caret under the word the parser does not know.

The running configuration is a hierarchy of :class:`Node` (a line and its children). The
parser knows the keywords day-0 configurations use in each mode (tables below), not full IOS
grammar: a line whose keywords are known is accepted and stored as typed (keywords expanded).
"""

from __future__ import annotations

import functools
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from turnup.lab import ciscohash
from turnup.lab.device import (
    Clock,
    Console,
    LldpAdvert,
    Management,
    ManagementUser,
    RouterSpec,
    SimRouter,
    register,
)

VERSION = "17.09.04a"
CR = "\r\n"
# the first lines of show version, and what LLDP sends as the system description
SYSTEM_DESCRIPTION = (
    "Cisco IOS Software [Cupertino], c8000be Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), "
    f"Version {VERSION}, RELEASE SOFTWARE (fc3)\n"
    "Technical Support: http://www.cisco.com/techsupport\n"
    "Copyright (c) 1986-2026 by Cisco Systems, Inc.\n"
    "Compiled Tue 10-Oct-23 10:00 by mcpre"
)
LLDP_CAPABILITY_CODES = """Capability codes:
    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device
    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other
"""

# Processing costs, in router seconds.
COST_LINE = 0.002  # any command line
COST_SHOW = 0.01
COST_WRITE = 1.5  # write memory
COST_RELOAD_BOOT = 5.0  # default boot time (option boot_seconds)

DEFAULT_MODEL = "C8300-1N1S-6T"
DEFAULT_INTERFACES = [
    "GigabitEthernet0/0/0",
    "GigabitEthernet0/0/1",
    "GigabitEthernet0/0/2",
    "GigabitEthernet0/0/3",
    "GigabitEthernet0/0/4",
    "GigabitEthernet0/0/5",
    "GigabitEthernet0",
]

IF_TYPES = {
    "GigabitEthernet": "Gi",
    "TenGigabitEthernet": "Te",
    "TwentyFiveGigE": "Twe",
    "FortyGigabitEthernet": "Fo",
    "HundredGigE": "Hu",
    "FastEthernet": "Fa",
    "Loopback": "Lo",
    "Tunnel": "Tu",
    "Port-channel": "Po",
    "Vlan": "Vl",
    "BDI": "BD",
}
LOGICAL_TYPES = {"Loopback", "Tunnel", "Port-channel", "Vlan", "BDI"}
IF_ORDER = {"Loopback": 0, "Tunnel": 1, "Port-channel": 2, "Vlan": 5, "BDI": 6}


def _words(*names: str) -> frozenset[str]:
    return frozenset(" ".join(names).split())


# ---- keyword tables: first words accepted in each mode ------------------------------------
COMMON = _words("no default exit end do")
GLOBAL = COMMON | _words(
    "hostname enable username aaa ip ipv6 service logging ntp snmp-server banner clock crypto",
    "spanning-tree license platform boot version cdp lldp login archive alias interface vrf",
    "line router key memory mpls redundancy transceiver track object-group privilege process",
    "security subscriber udld vlan netconf-yang restconf radius-server tacacs-server radius",
    "tacacs control-plane access-list route-map class-map policy-map call-home diagnostic",
    "errdisable file multilink parser system ipv6 vtp bfd monitor event",
)
GLOBAL_IP = _words(
    "route domain domain-name name-server ssh http scp ftp tftp access-list prefix-list vrf",
    "forward-protocol routing cef multicast-routing dhcp host bgp-community community-list",
    "as-path sla nat tcp radius tacacs options source-route finger bootp igmp arp icmp",
    "flow-export explicit-path local pim subnet-zero classless name default-gateway",
    "domain-lookup",
)
INTERFACE = COMMON | _words(
    "description ip ipv6 shutdown mtu negotiation speed duplex vrf encapsulation bandwidth",
    "load-interval cdp lldp channel-group switchport service-policy carrier-delay dampening",
    "media-type logging mpls bfd standby vrrp hold-queue keepalive arp delay tunnel snmp",
    "zone-member crypto autostate",
)
INTERFACE_IP = _words(
    "address ospf vrf helper-address access-group mtu tcp redirects unreachables proxy-arp nat",
    "pim flow policy verify dhcp router summary-address mask-reply directed-broadcast igmp",
    "nbar route-cache",
)
MODES: dict[str, frozenset[str]] = {
    "config": GLOBAL,
    "config-if": INTERFACE,
    "config-subif": INTERFACE,
    "config-vrf": COMMON | _words("rd route-target address-family description vpn import export"),
    "config-vrf-af": COMMON | _words("route-target import export exit-address-family maximum"),
    "config-line": COMMON
    | _words(
        "login transport exec-timeout password logging stopbits speed privilege access-class",
        "session-timeout history length width escape-character absolute-timeout autoselect",
        "databits parity flowcontrol ipv6 motd-banner exec",
    ),
    "config-router": COMMON
    | _words(
        "router-id network passive-interface area auto-cost log-adjacency-changes redistribute",
        "default-information timers bfd maximum-paths distance max-metric summary-address nsf",
        "graceful-restart capability prefix-suppression mpls bgp neighbor address-family",
        "aggregate-address synchronization auto-summary template table-map default-metric",
    ),
    "config-router-af": COMMON
    | _words(
        "neighbor network redistribute maximum-paths aggregate-address default-information",
        "exit-address-family bgp distance table-map auto-summary synchronization",
    ),
    "config-archive": COMMON | _words("path write-memory maximum time-period log rollback"),
    "config-std-nacl": COMMON | _words("permit deny remark evaluate"),
    "config-ext-nacl": COMMON | _words("permit deny remark evaluate"),
    "config-route-map": COMMON | _words("match set description continue"),
    "config-sg-tacacs+": COMMON | _words("server server-private ip"),
    "config-sg-radius": COMMON | _words("server server-private ip"),
    "config-server-tacacs": COMMON | _words("address key timeout port single-connection"),
    "config-radius-server": COMMON | _words("address key timeout retransmit automate-tester"),
    "config-cp": COMMON | _words("service-policy"),
    "config-cmap": COMMON | _words("match description"),
    "config-pmap": COMMON | _words("class description"),
    "config-pmap-c": COMMON
    | _words("police set bandwidth priority shape service-policy random-detect queue-limit"),
}
# IOS shows these negated forms in the running config.
SHOWN_NEGATED = (
    "ip address",
    "ip http server",
    "ip http secure-server",
    "aaa new-model",
    "ip domain lookup",
    "logging console",
    "service pad",
    "ip routing",
    "auto-summary",
    "synchronization",
    "negotiation auto",
    "passive-interface",
    "service prompt config",
)
# Defaults IOS does not show: typing them back only removes the shown negation.
HIDDEN_DEFAULTS = ("service prompt config", "logging console")
# first words that replace an earlier line with the same leading words (count = key length)
SINGLETONS = {
    "hostname": 1,
    "description": 1,
    "mtu": 1,
    "bandwidth": 1,
    "negotiation": 1,
    "speed": 1,
    "duplex": 1,
    "exec-timeout": 1,
    "router-id": 1,
    "rd": 1,
    "login": 1,
    "privilege": 1,
    "vrf forwarding": 2,
    "ip address": 2,
    "ip vrf": 3,
    "enable secret": 2,
    "enable password": 2,
    "username": 2,
    "ip domain": 3,
    "ip domain-name": 2,
    "ip ssh version": 3,
    "transport input": 2,
    "transport output": 2,
    "bgp router-id": 2,
    "clock timezone": 2,
    "snmp-server location": 2,
    "snmp-server contact": 2,
    "logging buffered": 2,
    "ip ospf cost": 3,
    "ip ospf network": 3,
    "ip ospf area": 3,
    "ip mtu": 2,
    "path": 1,
    "maximum": 1,
}
# sub-mode entering commands: (mode, first words) -> new mode
SUBMODES = {
    ("config", "interface"): "config-if",
    ("config", "vrf definition"): "config-vrf",
    ("config", "ip vrf"): "config-vrf",
    ("config", "line"): "config-line",
    ("config", "router"): "config-router",
    ("config", "archive"): "config-archive",
    ("config", "ip access-list"): "config-ext-nacl",
    ("config", "route-map"): "config-route-map",
    ("config", "aaa group"): "config-sg-tacacs+",
    ("config", "tacacs server"): "config-server-tacacs",
    ("config", "radius server"): "config-radius-server",
    ("config", "control-plane"): "config-cp",
    ("config", "class-map"): "config-cmap",
    ("config", "policy-map"): "config-pmap",
    ("config-vrf", "address-family"): "config-vrf-af",
    ("config-router", "address-family"): "config-router-af",
    ("config-pmap", "class"): "config-pmap-c",
}
# rank of top-level statements in show running-config (IOS prints them in its own order)
RANKS = [
    ("version", 0),
    ("service", 1),
    ("platform", 2),
    ("hostname", 3),
    ("boot", 4),
    ("boot-start-marker", 4),
    ("boot-end-marker", 4),
    ("memory", 14),
    ("logging host", 38),
    ("logging trap", 38),
    ("logging source-interface", 38),
    ("vrf", 5),
    ("ip vrf", 5),
    ("logging", 6),
    ("no logging", 6),
    ("enable", 7),
    ("aaa", 8),
    ("no aaa", 8),
    ("clock", 9),
    ("ip domain", 10),
    ("no ip domain", 10),
    ("ip name-server", 10),
    ("login", 11),
    ("ipv6", 12),
    ("crypto", 13),
    ("license", 14),
    ("archive", 15),
    ("username", 16),
    ("redundancy", 17),
    ("spanning-tree", 18),
    ("class-map", 19),
    ("policy-map", 19),
    ("interface", 20),
    ("router", 30),
    ("ip forward-protocol", 31),
    ("ip http", 32),
    ("no ip http", 32),
    ("ip route", 33),
    ("ip ssh", 34),
    ("ip access-list", 35),
    ("ip prefix-list", 35),
    ("route-map", 36),
    ("snmp-server", 40),
    ("tacacs", 41),
    ("radius", 41),
    ("control-plane", 50),
    ("banner", 55),
    ("line", 60),
    ("ntp", 70),
    ("netconf-yang", 75),
    ("end", 99),
]


def crlf(text: str) -> str:
    """Console text: every newline becomes CR LF."""
    return text.replace("\n", CR)


BOOT_ROM = """
Initializing Hardware ...

System Bootstrap, Version 17.3(5r), RELEASE SOFTWARE
Copyright (c) 1994-2026  by cisco Systems, Inc.

Current image running: Boot ROM0
Last reset cause: {reason}
{model} platform with 8388608 Kbytes of main memory

boot: attempting to boot from [bootflash:c8000be-universalk9.{version}.SPA.bin]
boot: reading file c8000be-universalk9.{version}.SPA.bin
############################################################

"""
BOOT_IOS = """
              Restricted Rights Legend

Cisco IOS Software [Cupertino], c8000be Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), \
Version {version}, RELEASE SOFTWARE (fc3)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2026 by Cisco Systems, Inc.

cisco {model} (1RU) processor with 3788415K/6147K bytes of memory.
Processor board ID {serial}
{ports}32768K bytes of non-volatile configuration memory.

"""
DIALOG = """
         --- System Configuration Dialog ---

Would you like to enter the initial configuration dialog? [yes/no]: """
SECRET_INTRO = """
The enable secret is a password used to protect access to
privileged EXEC and configuration modes. This password, after
entered, becomes encrypted in the configuration.
-------------------------------------------------
secret should be of minimum 10 characters and maximum 32 characters
with at least 1 upper case, 1 lower case, 1 digit and
should not contain [cisco]
-------------------------------------------------
Enter enable secret: """
SCRIPT = """

The following configuration command script was created:

enable secret 9 {hash}
!
end


[0] Go to the IOS command prompt without saving this config.
[1] Return back to the setup without saving this config.
[2] Save this configuration to nvram and exit.

Enter your selection [2]: """
SAVED_FROM_SETUP = """Building configuration...
[OK]
Use the enabled mode 'configure' command to modify this configuration.
"""
MODULUS_QUESTION = """The name for the keys will be: {name}
Choose the size of the key modulus in the range of 512 to 4096 for your
  General Purpose Keys. Choosing a key modulus greater than 512 may take
  a few minutes.

"""
REPLACE_QUESTION = """This will apply all necessary additions and deletions
to replace the current running configuration with the
contents of the specified configuration file, which is
assumed to be a complete configuration, not a partial
configuration. Enter Y if you are sure you want to proceed. ? [no]: """


@dataclass
class Node:
    text: str
    children: list[Node] = field(default_factory=list)

    def find(self, text: str) -> Node | None:
        for child in self.children:
            if child.text == text:
                return child
        return None

    def lines(self, depth: int = 0, hidden: bool = False) -> list[str]:
        out = [" " * depth + self.text] if self.text else []
        children = self.children
        if self.text:
            children = sorted(children, key=lambda n: _child_rank(n.text))
        for child in children:
            if hidden or not _hidden(child.text):
                out += child.lines(depth + (1 if self.text else 0), hidden)
        if self.text.startswith("address-family"):
            out.append(" " * depth + "exit-address-family")
        return out


# order of sub-mode lines in show running-config (IOS's, not the order they were typed)
CHILD_RANKS = [
    ("description", 0),
    ("router-id", 0),
    ("bgp router-id", 0),
    ("rd", 1),
    ("vrf forwarding", 1),
    ("ip vrf forwarding", 1),
    ("route-target", 2),
    ("ip address", 3),
    ("no ip address", 3),
    ("address-family", 6),
    ("shutdown", 8),
    ("negotiation", 9),
    ("no negotiation", 9),
]
# stored, acted on, saved, but never shown by show running-config (IOS keeps them private)
HIDDEN = ("snmp-server user ",)


def _hidden(text: str) -> bool:
    return text.startswith(HIDDEN)


@functools.lru_cache(maxsize=8192)
def _child_rank(text: str) -> int:
    best, best_len = 5, -1
    for prefix, rank in CHILD_RANKS:
        if (text == prefix or text.startswith(prefix + " ")) and len(prefix) > best_len:
            best, best_len = rank, len(prefix)
    return best


SHUTDOWN_ABORTED = CR + CR + "***" + CR + "*** --- SHUTDOWN ABORTED ---" + CR + "***" + CR
SHUTDOWN_NOW = CR + CR + "***" + CR + "*** --- SHUTDOWN NOW ---" + CR + "***" + CR


def _reload_delay(text: str) -> float | None:
    """``reload in`` takes minutes (``mmm``) or hours and minutes (``hhh:mm``): seconds, or
    None when it is not one of those (IOS: 1 minute to 24 days)."""
    match = re.fullmatch(r"(?:(\d{1,3}):)?(\d{1,5})", text)
    if match is None:
        return None
    hours = int(match.group(1)) if match.group(1) is not None else 0
    minutes = hours * 60 + int(match.group(2))
    if match.group(1) is not None and int(match.group(2)) > 59:
        return None
    return minutes * 60.0 if 1 <= minutes <= 24 * 24 * 60 else None


@functools.lru_cache(maxsize=8192)  # every `show running-config` ranks every line twice
def _rank(text: str) -> int:
    best = 45
    best_len = -1
    for prefix, rank in RANKS:
        if (text == prefix or text.startswith(prefix + " ")) and len(prefix) > best_len:
            best, best_len = rank, len(prefix)
    return best


def _if_sort_key(name: str):
    match = re.match(r"([A-Za-z-]+)([\d/.:]*)", name)
    kind, numbers = (match.group(1), match.group(2)) if match else (name, "")
    nums = [int(n) for n in re.split(r"[/.:]", numbers) if n.isdigit()]
    physical = kind not in IF_ORDER
    # the management port (GigabitEthernet0) comes after the slot/bay/port ones, as on a C8300
    return (IF_ORDER.get(kind, 3), "" if physical else kind, physical and len(nums) == 1, nums)


def parse_config(text: str) -> Node:
    """Parse IOS config text (one-space indentation per level) into a Node tree."""
    root = Node("")
    stack: list[tuple[int, Node]] = [(-1, root)]
    lines = text.replace("\r", "").split("\n")
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("!") or stripped in ("end", "exit-address-family"):
            continue
        if stripped.startswith("banner "):
            words = stripped.split(" ", 2)
            if len(words) == 3:
                delim = "^C" if words[2].startswith("^C") else words[2][0]
                body = words[2][len(delim) :]
                parts = [body] if body else []
                while delim not in (parts[-1] if parts else "") and i < len(lines):
                    parts.append(lines[i])
                    i += 1
                root.children.append(Node(f"banner {words[1]} ^C{CR.join(parts)}"))
                continue
        depth = len(raw) - len(raw.lstrip(" "))
        while stack[-1][0] >= depth:
            stack.pop()
        node = Node(stripped)
        stack[-1][1].children.append(node)
        stack.append((depth, node))
    return root


def normalize_interface(name: str) -> str | None:
    """ "gi0/0/0" -> "GigabitEthernet0/0/0"; None when the type is unknown or ambiguous."""
    match = re.fullmatch(r"([A-Za-z-]+)\s*([\d/.:]+)", name.strip())
    if not match:
        return None
    kind, number = match.groups()
    candidates = [t for t in IF_TYPES if t.lower().startswith(kind.lower())]
    exact = [t for t in IF_TYPES if t.lower() == kind.lower()]
    if exact:
        candidates = exact
    if len(candidates) != 1:
        return None
    return candidates[0] + number


def short_interface(name: str) -> str:
    for full, short in IF_TYPES.items():
        if name.startswith(full):
            return short + name[len(full) :]
    return name


class IosError(Exception):
    """A line the parser rejects: ``column`` is the caret position in the typed line."""

    def __init__(self, column: int, message: str = "% Invalid input detected at '^' marker."):
        self.column = column
        self.message = message


def _match_keyword(word: str, keywords: frozenset[str] | set[str], column: int) -> str:
    if word in keywords:
        return word
    lowered = word.lower()
    found = [k for k in keywords if k.startswith(lowered)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise IosError(column, f'% Ambiguous command:  "{word}"')
    raise IosError(column)


def _word_columns(line: str) -> list[tuple[str, int]]:
    return [(m.group(0), m.start()) for m in re.finditer(r"\S+", line)]


# ---- exec commands -------------------------------------------------------------------------
EXEC_USER = _words("enable exit logout quit terminal show ping traceroute disable")
EXEC_PRIV = EXEC_USER | _words(
    "configure write copy reload pnpa clear debug undebug dir more erase delete"
)
SHOW_WORDS = _words(
    "running-config startup-config version ip interfaces inventory clock users history",
    "archive privilege terminal line logging crypto lldp reload",
)


class IosSession:
    """One CLI session: the console (``con0``) or a vty (SSH management)."""

    def __init__(self, router: IosXeRouter, console: Console, *, vty: str | None, privilege: int):
        self.router = router
        self.out = console
        self.vty = vty  # None for the console
        self.user = ""
        self.privilege = privilege
        self.mode = "exec"
        self.path: list[Node] = []  # config nodes of the current sub-mode chain
        self.modes: list[str] = []
        self.typed = bytearray()
        self.last_cr = False
        self.length = 24
        self.width = 80
        self.pager: list[str] | None = None
        self.pager_done: Callable[[], None] | None = None
        # a question waiting for one line of input: (prompt-echo?, handler)
        self.question: tuple[bool, Callable[[str], float]] | None = None
        self.banner: tuple[Node, str, list[str]] | None = None
        self.closed = False

    # -- output --------------------------------------------------------------------------------
    def write(self, text: str) -> None:
        if not self.closed:
            if self.vty is None:
                self.router.write(text)
            else:
                self.out.write(text.encode())

    def prompt_text(self) -> str:
        host = self.router.hostname
        if self.mode == "exec":
            return host + ("#" if self.privilege >= 15 else ">")
        if self.router.running.find("no service prompt config") is not None:
            return ""  # `no service prompt config`: configuration modes print no prompt
        return f"{host}({self.modes[-1]})#"

    def prompt(self) -> None:
        self.write(self.prompt_text())

    def page(self, text: str, done: Callable[[], None] | None = None) -> None:
        """Write command output, paging with --More-- when terminal length is not 0."""
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        lines = [line.rstrip("\r") for line in lines]
        if self.length == 0 or len(lines) < self.length:
            self.write("".join(line + CR for line in lines))
            if done:
                done()
            else:
                self.prompt()
            return
        self.pager = lines
        self.pager_done = done
        self._page_more(self.length - 1)

    def _page_more(self, count: int) -> None:
        assert self.pager is not None
        chunk, self.pager = self.pager[:count], self.pager[count:]
        self.write("".join(line + CR for line in chunk))
        if self.pager:
            self.write(" --More-- ")
            return
        self._end_pager()

    def _end_pager(self) -> None:
        self.pager = None
        done, self.pager_done = self.pager_done, None
        if done:
            done()
        else:
            self.prompt()

    # -- input ---------------------------------------------------------------------------------
    def feed(self, data: bytes) -> tuple[int, float]:
        router = self.router
        if router.faults.silent and self.vty is None:
            return len(data), 0.0
        if self.vty is None and router.phase != "up":
            return router.feed_boot(data)
        for index, byte in enumerate(data):
            if self.pager is not None:
                self.write("\b" * 9 + " " * 9 + "\b" * 9)
                if byte == 0x20:
                    self._page_more(self.length - 1)
                elif byte in (10, 13):
                    self._page_more(1)
                else:
                    self.pager = []
                    self._end_pager()
                return index + 1, router.cost(COST_LINE)
            if byte == 10 and self.last_cr:
                self.last_cr = False
                continue
            self.last_cr = byte == 13
            if byte in (10, 13):
                line = self.typed.decode(errors="replace")
                self.typed.clear()
                self.write(CR)
                return index + 1, self.execute(line)
            if byte == 0x1A and self.mode == "config":  # Ctrl-Z
                self.typed.clear()
                self.write("^Z" + CR)
                self.end_config()
                self.prompt()
                return index + 1, router.cost(COST_LINE)
            if byte == 0x03 and self.mode == "exec":  # Ctrl-C
                self.typed.clear()
                self.write("^C" + CR)
                self.prompt()
                continue
            if byte == 0x15:  # Ctrl-U: IOS line editing erases the line typed so far
                if not self.question or self.question[0]:
                    self.write("\b \b" * len(self.typed))
                self.typed.clear()
                continue
            if byte in (8, 127):
                if self.typed:
                    self.typed = self.typed[:-1]
                    self.write("\b \b")
                continue
            if byte < 32 and byte != 9:
                continue
            self.typed.append(byte)
            if not self.question or self.question[0]:
                self.write(chr(byte))
        return len(data), 0.0

    def close(self) -> None:
        self.closed = True
        self.router.sessions.discard(self)

    # -- commands ------------------------------------------------------------------------------
    def ask(self, prompt: str, handler: Callable[[str], float], *, echo: bool = True) -> float:
        self.write(prompt)
        self.question = (echo, handler)
        return self.router.cost(COST_LINE)

    def execute(self, line: str) -> float:
        router = self.router
        if self.question is not None:
            handler = self.question[1]
            self.question = None
            return handler(line)
        if self.banner is not None:
            node, delim, parts = self.banner
            if delim in line:
                parts.append(line[: line.index(delim)])
                node.text += CR.join(parts)
                self.banner = None
                self.prompt()
            else:
                parts.append(line)
            return router.cost(COST_LINE)
        try:
            if self.mode == "exec":
                return self.exec_command(line)
            return self.config_command(line)
        except IosError as error:
            if error.message.startswith("% Invalid"):
                offset = len(self.prompt_text()) + error.column
                self.write(" " * offset + "^" + CR)
            self.write(error.message + CR + CR)
            self.prompt()
            return router.cost(COST_LINE)

    def exec_command(self, line: str) -> float:
        router = self.router
        cost = router.cost(COST_LINE)
        words = _word_columns(line)
        if not words:
            self.prompt()
            return cost
        allowed = EXEC_PRIV if self.privilege >= 15 else EXEC_USER
        first, col = words[0]
        if first.lower() not in allowed and not any(k.startswith(first.lower()) for k in allowed):
            if len(words) == 1:
                self.write("% Unknown command or computer name, or unable to find computer address")
                self.write(CR)
                self.prompt()
                return cost
        command = _match_keyword(first, allowed, col)
        args = words[1:]
        handler = getattr(self, "cmd_" + command.replace("-", "_"), None)
        if handler is None:
            self.write(CR)
            self.prompt()
            return cost
        return handler(args, line)

    def cmd_enable(self, args, line) -> float:
        router = self.router
        if self.privilege >= 15:
            self.prompt()
            return router.cost(COST_LINE)
        secret = router.enable_secret()
        if secret is None:
            if self.vty is not None:
                self.write("% No password set" + CR)
                self.prompt()
                return router.cost(COST_LINE)
            self.privilege = 15
            self.prompt()
            return router.cost(COST_LINE)
        tries = [0]

        def check(answer: str) -> float:
            if router.check_enable(answer):
                self.privilege = 15
                self.prompt()
            else:
                tries[0] += 1
                if tries[0] >= 3:
                    self.write("% Bad secrets" + CR + CR)
                    self.prompt()
                else:
                    self.ask("Password: ", check, echo=False)
            return router.cost(COST_LINE)

        return self.ask("Password: ", check, echo=False)

    def cmd_disable(self, args, line) -> float:
        self.privilege = 1
        self.prompt()
        return self.router.cost(COST_LINE)

    def cmd_exit(self, args, line) -> float:
        if self.vty is not None:
            self.close()
            self.out.hangup()
            return 0.0
        self.privilege = 1
        self.write(CR + f"{self.router.hostname} con0 is now available" + CR * 4)
        self.write("Press RETURN to get started." + CR * 4)
        self.router.phase = "press-return"
        return self.router.cost(COST_LINE)

    cmd_logout = cmd_exit
    cmd_quit = cmd_exit

    def cmd_terminal(self, args, line) -> float:
        if not args:
            raise IosError(len(line), "% Incomplete command.")
        word = _match_keyword(args[0][0], _words("length width monitor no"), args[0][1])
        if word in ("length", "width"):
            if len(args) < 2 or not args[1][0].isdigit():
                raise IosError(len(line), "% Incomplete command.")
            value = int(args[1][0])
            if word == "length":
                self.length = value
            else:
                self.width = value
        self.prompt()
        return self.router.cost(COST_LINE)

    def cmd_configure(self, args, line) -> float:
        if args:
            word = _match_keyword(args[0][0], _words("terminal replace memory confirm"), args[0][1])
            if word == "replace":
                return self.configure_replace(args[1:], line)
            if word == "confirm":
                return self._configure_confirm(args[1:])
            if word == "terminal" and len(args) > 1:
                return self._configure_revert_timer(args[1:], line)
        return self._enter_config()

    def _enter_config(self) -> float:
        self.write("Enter configuration commands, one per line.  End with CNTL/Z." + CR)
        self.mode = "config"
        self.modes = ["config"]
        self.path = []
        self.prompt()
        return self.router.cost(COST_LINE)

    def _configure_revert_timer(self, args, line) -> float:
        """``configure terminal revert timer <1-120>`` (Configuration Rollback Confirmed
        Change): configuration mode, with the running config as it is now archived and put
        back unless ``configure confirm`` comes within the minutes. It needs an archive path.
        (``revert timer idle`` is not modelled.)"""
        router = self.router
        _match_keyword(args[0][0], _words("revert"), args[0][1])
        if len(args) < 2:
            raise IosError(len(line), "% Incomplete command.")
        _match_keyword(args[1][0], _words("timer"), args[1][1])
        if len(args) < 3:
            raise IosError(len(line), "% Incomplete command.")
        minutes, column = args[2]
        if not minutes.isdigit() or not 1 <= int(minutes) <= 120:
            raise IosError(column)
        if len(args) > 3:
            raise IosError(args[3][1])
        path = router.archive_path()
        if path is None:
            self.write("%Rollback Confirmed Change: the archive path is not configured" + CR)
            self.prompt()
            return router.cost(COST_LINE)
        router.revert_schedule(int(minutes) * 60, by=self.tty_name(), path=path)
        return self._enter_config()

    def _configure_confirm(self, args) -> float:
        if args:
            raise IosError(args[0][1])
        router = self.router
        if not router.revert_cancel(by=self.tty_name()):
            self.write("%No Rollback Confirmed Change pending" + CR)
        self.prompt()
        return router.cost(COST_LINE)

    def configure_replace(self, args, line) -> float:
        router = self.router
        target = args[0][0] if args else ""
        if target not in ("nvram:startup-config", "startup-config"):
            raise IosError(args[0][1] if args else len(line))

        def apply() -> float:
            if router.startup is None:
                self.write("%Error opening nvram:startup-config (No such file or directory)" + CR)
            else:
                router.running = parse_config(router.startup)
                router.ensure_interfaces()
                self.write("Total number of passes: 1" + CR + "Rollback Done" + CR + CR)
                router.notify_management_change()
            self.prompt()
            return router.cost(1.0)

        if any(w[0] == "force" for w in args[1:]):
            return apply()

        def confirm(answer: str) -> float:
            if answer.strip().lower() in ("y", "yes"):
                return apply()
            self.prompt()
            return router.cost(COST_LINE)

        return self.ask(crlf(REPLACE_QUESTION), confirm)

    def cmd_write(self, args, line) -> float:
        word = "memory"
        if args:
            word = _match_keyword(args[0][0], _words("memory erase terminal"), args[0][1])
        if word == "terminal":
            return self.cmd_show([("running-config", 0)], line)
        if word == "erase":
            return self._erase()
        return self._save()

    def _erase(self) -> float:
        router = self.router

        def confirm(answer: str) -> float:
            if answer.strip().lower() in ("", "y", "yes"):
                router.startup = None
                self.write("[OK]" + CR + "Erase of nvram: complete" + CR)
            self.prompt()
            return router.cost(COST_LINE)

        return self.ask(
            "Erasing the nvram filesystem will remove all configuration files! Continue? [confirm]",
            confirm,
        )

    def _save(self) -> float:
        router = self.router
        self.write("Building configuration..." + CR)
        delay = router.cost(COST_WRITE)
        router.startup = router.render_config(hidden=True)
        router.rsa_saved = router.rsa_modulus
        router.later(delay, self._saved)
        return delay

    def _saved(self) -> None:
        self.write("[OK]" + CR)
        if self.router.faults.reboot_after_save:
            self.router.reload("Reload Command")
            return
        self.prompt()

    def cmd_erase(self, args, line) -> float:
        return self._erase()

    def cmd_copy(self, args, line) -> float:
        if len(args) < 2:
            raise IosError(len(line), "% Incomplete command.")
        src, dst = args[0][0].lower(), args[1][0].lower()
        if not ("running-config".startswith(src) or src == "system:running-config"):
            raise IosError(args[0][1])
        if not ("startup-config".startswith(dst) or dst == "nvram:startup-config"):
            raise IosError(args[1][1])

        def dest(answer: str) -> float:
            return self._save()

        return self.ask("Destination filename [startup-config]? ", dest)

    def cmd_reload(self, args, line) -> float:
        """``reload`` (at once), ``reload in mmm`` / ``reload in hhh:mm`` (a timer: the safety
        net of a remote change — the router goes back to its saved config unless someone runs
        ``reload cancel`` first) and ``reload cancel``."""
        router = self.router
        delay: float | None = None
        if args:
            word = _match_keyword(args[0][0], _words("in cancel"), args[0][1])
            if word == "cancel":
                return self._reload_cancel()
            if len(args) < 2:
                raise IosError(len(line), "% Incomplete command.")
            delay = _reload_delay(args[1][0])
            if delay is None:
                raise IosError(args[1][1])

        def proceed(answer: str) -> float:
            if answer.strip().lower() not in ("", "y", "yes"):
                self.prompt()
                return router.cost(COST_LINE)
            if delay is None:
                router.reload("Reload Command")
            else:
                router.reload_schedule(delay, by=self.tty_name())
                self.prompt()
            return router.cost(COST_LINE)

        def confirm() -> float:
            if delay is not None:
                minutes = round(delay / 60)
                self.write(f"Reload scheduled in {minutes} minutes by {self.tty_name()}" + CR)
                self.write("Reload reason: Reload Command" + CR)
            return self.ask("Proceed with reload? [confirm]", proceed)

        def save(answer: str) -> float:
            answer = answer.strip().lower()
            if answer in ("y", "yes"):
                router.startup = router.render_config(hidden=True)
                self.write("Building configuration..." + CR + "[OK]" + CR)
            elif answer not in ("n", "no"):
                self.write("% Please answer 'yes' or 'no'." + CR)
                return self.ask("System configuration has been modified. Save? [yes/no]: ", save)
            return confirm()

        if router.startup != router.render_config(hidden=True):
            return self.ask("System configuration has been modified. Save? [yes/no]: ", save)
        return confirm()

    def _reload_cancel(self) -> float:
        router = self.router
        cancelled = router.reload_cancel()
        if not cancelled:
            self.write("%No reload is scheduled." + CR)
        self.prompt()
        if cancelled and self.vty is not None:  # IOS tells every terminal, this one too
            self.write(SHUTDOWN_ABORTED)
        return router.cost(COST_LINE)

    def tty_name(self) -> str:
        return "console" if self.vty is None else f"{self.user or 'admin'} on {self.vty}"

    def cmd_pnpa(self, args, line) -> float:
        self.router.stop_pnp()
        self.prompt()
        return self.router.cost(COST_LINE)

    def cmd_ping(self, args, line) -> float:
        target = args[0][0] if args else ""
        self.write("Type escape sequence to abort." + CR)
        self.write(f"Sending 5, 100-byte ICMP Echos to {target}, timeout is 2 seconds:" + CR)
        self.write("....." + CR + "Success rate is 0 percent (0/5)" + CR)
        self.prompt()
        return self.router.cost(0.5)

    def cmd_clear(self, args, line) -> float:
        self.prompt()
        return self.router.cost(COST_LINE)

    cmd_debug = cmd_clear
    cmd_undebug = cmd_clear
    cmd_traceroute = cmd_ping

    def cmd_dir(self, args, line) -> float:
        self.write("Directory of bootflash:/" + CR + CR)
        self.write(f"   12  -rw-  712493056  Nov 1 2026 10:00:00 +00:00  c8000be-{VERSION}.bin")
        self.write(CR + CR)
        self.prompt()
        return self.router.cost(COST_SHOW)

    def cmd_show(self, args, line) -> float:
        router = self.router
        if not args:
            raise IosError(len(line), "% Incomplete command.")
        # pipes: | include / exclude / begin / section
        pipe = None
        if "|" in line:
            pipe_text = line.split("|", 1)[1].strip()
            pipe = pipe_text.split(None, 1)
            args = [a for a in args if a[1] < line.index("|")]
        allowed = SHOW_WORDS if self.privilege >= 15 else SHOW_WORDS - {"running-config"}
        word = _match_keyword(args[0][0], allowed, args[0][1])
        rest = [a[0].lower() for a in args[1:]]
        if word == "running-config" and len(args) > 2 and "interface".startswith(rest[0]):
            name = normalize_interface("".join(a[0] for a in args[2:]))
            node = router.running.find(f"interface {name}") if name else None
            if node is None:
                raise IosError(args[2][1])
            body = "\n".join(node.lines()) + "\nend\n"
            text = (
                f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n!\n{body}"
            )
        elif word == "running-config":
            text = router.show_running()
        elif word == "startup-config":
            if router.startup is None:
                text = "startup-config is not present\n"
            else:
                text = f"Using {len(router.startup)} out of 33554432 bytes\n" + router.startup
        elif word == "version":
            text = router.show_version()
        elif word == "ip":
            if not rest:
                raise IosError(len(line), "% Incomplete command.")
            sub = _match_keyword(rest[0], _words("interface route ssh"), args[1][1])
            if sub == "interface" and len(rest) > 1 and "brief".startswith(rest[1]):
                text = router.show_ip_interface_brief()
            elif sub == "route":
                text = router.show_ip_route()
            elif sub == "ssh":  # IOS enables SSH once it has an RSA key
                if router.rsa_modulus:
                    text = "SSH Enabled - version 2.0\nAuthentication timeout: 120 secs\n"
                else:
                    text = (
                        "SSH Disabled - version 1.99\n%Please create RSA keys to enable SSH "
                        "(and of atleast 768 bits for SSH v2).\nAuthentication timeout: 120 secs\n"
                    )
            else:
                raise IosError(args[2][1] if len(args) > 2 else len(line), "% Incomplete command.")
        elif word == "interfaces":
            if rest and "description".startswith(rest[0]):
                text = router.show_interfaces_description()
            else:
                text = router.show_interfaces_description()
        elif word == "inventory":
            text = router.show_inventory()
        elif word == "lldp":
            text = self._show_lldp(args, line)
        elif word == "clock":
            text = time.strftime("*%H:%M:%S.000 UTC %a %b %d %Y", time.gmtime()) + "\n"
        elif word == "archive":
            text = "The maximum archive configurations allowed is 10.\n"
        elif word == "privilege":
            text = f"Current privilege level is {self.privilege}\n"
        elif word == "reload":
            text = router.show_reload()
        else:
            text = ""
        if pipe:
            text = _apply_pipe(text, pipe)
        self.page(text)
        return router.cost(COST_SHOW + len(text) / 200000)

    def _show_lldp(self, args, line) -> str:
        """``show lldp neighbors [detail]``."""
        if len(args) < 2:
            raise IosError(len(line), "% Incomplete command.")
        _match_keyword(args[1][0], _words("neighbors"), args[1][1])
        detail = len(args) > 2 and _match_keyword(args[2][0], _words("detail"), args[2][1])
        router = self.router
        if not router.lldp_running():
            return "% LLDP is not enabled\n"
        if detail:
            return router.show_lldp_neighbors_detail()
        return router.show_lldp_neighbors()

    # -- configuration mode --------------------------------------------------------------------
    def end_config(self) -> None:
        self.mode = "exec"
        self.modes = []
        self.path = []
        self.router.config_changed(self)

    def config_command(self, line: str) -> float:
        router = self.router
        cost = router.cost(COST_LINE)
        words = _word_columns(line)
        if not words:
            self.prompt()
            return cost
        mode = self.modes[-1]
        first = words[0][0]
        lowered = first.lower()
        if first.startswith("!"):  # a comment: taken, changes nothing, stays in the mode
            self.prompt()
            return cost
        if lowered == "end" or (lowered == "exit" and mode == "config"):
            self.end_config()
            self.prompt()
            return cost
        if lowered == "exit" or (lowered == "exit-address-family" and mode.endswith("-af")):
            self.modes.pop()
            self.path.pop()
            self.prompt()
            return cost
        if lowered == "do" and len(words) > 1:
            try:
                return self.exec_command(line[words[1][1] :])
            except IosError as error:
                error.column += words[1][1]
                raise
        # a line unknown in a sub-mode but known globally leaves the sub-mode (IOS does this);
        # an exact global keyword ("router", "interface") wins over a sub-mode abbreviation
        if mode != "config":
            word = words[1][0] if lowered in ("no", "default") and len(words) > 1 else first
            word = word.lower()
            if word in GLOBAL and word not in MODES[mode] and word not in COMMON:
                self.modes = ["config"]
                self.path = []
                mode = "config"
        if mode != "config":
            try:
                self._resolve(words, mode)
            except IosError:
                try:
                    self._resolve(words, "config")
                except IosError:
                    pass
                else:
                    self.modes = ["config"]
                    self.path = []
                    mode = "config"
        canonical, negated = self._resolve(words, mode)
        new_mode = None
        if not negated:
            new_mode = self._submode(mode, canonical, words)
        if canonical.startswith("banner "):
            return self._banner(canonical, words)
        if canonical.startswith("crypto key generate"):
            return self._crypto_key(canonical)
        if canonical.startswith("crypto key zeroize"):
            router.rsa_modulus = 0
            self.prompt()
            return cost
        if not negated:
            canonical = _hash_secrets(canonical, router)
        parent = self.path[-1] if self.path else router.running
        if new_mode is not None:
            node = parent.find(canonical)
            if node is None:
                node = Node(canonical)
                parent.children.append(node)
            self.modes.append(new_mode)
            self.path.append(node)
        else:
            apply_statement(parent, canonical, negated)
            if canonical == "shutdown" and negated and self.path:
                router.link_up_later(self.path[-1].text)
        self.prompt()
        return cost

    def _resolve(self, words: list[tuple[str, int]], mode: str) -> tuple[str, bool]:
        """Validate keywords; returns (canonical statement without 'no', negated)."""
        keywords = MODES[mode]
        negated = False
        if words[0][0].lower() in ("no", "default"):
            negated = words[0][0].lower() != "default"
            words = words[1:]
            if not words:
                raise IosError(len(words), "% Incomplete command.")
        first = _match_keyword(words[0][0], keywords - {"no", "default"}, words[0][1])
        out = [first]
        rest = words[1:]
        if mode == "config-line" and first == "logging" and rest:
            # a line's only logging is `logging synchronous`; `logging console` typed under a
            # line is the global command (the caller falls back to global configuration)
            _match_keyword(rest[0][0], {"synchronous"}, rest[0][1])
        if first == "ip" and rest:
            table = GLOBAL_IP if mode == "config" else INTERFACE_IP if "if" in mode else None
            if table is not None:
                out.append(_match_keyword(rest[0][0], table, rest[0][1]))
                rest = rest[1:]
        elif first == "interface":
            if not rest:
                raise IosError(words[0][1] + len(words[0][0]) + 1, "% Incomplete command.")
            name_text = "".join(w for w, _ in rest)
            name = normalize_interface(name_text)
            if name is None or not self.router.interface_allowed(name):
                # the caret goes under the first character IOS could not match
                raise IosError(rest[0][1] + (len(rest[0][0]) if name else 0))
            return f"interface {name}", negated
        elif first == "shutdown" and rest:
            raise IosError(rest[0][1])
        elif first in ("hostname", "description") and not rest:
            raise IosError(words[0][1] + len(words[0][0]) + 1, "% Incomplete command.")
        out += [w for w, _ in rest]
        return " ".join(out), negated

    def _submode(self, mode: str, canonical: str, words) -> str | None:
        parts = canonical.split()
        for length in (2, 1):
            key = (mode, " ".join(parts[:length]))
            if key in SUBMODES:
                new = SUBMODES[key]
                if key == ("config", "ip vrf") and len(parts) > 2 and parts[2] == "forwarding":
                    return None
                if key == ("config", "ip access-list") and len(parts) > 2:
                    return "config-std-nacl" if parts[2] == "standard" else "config-ext-nacl"
                if key == ("config", "aaa group"):
                    return "config-sg-radius" if "radius" in parts else "config-sg-tacacs+"
                if key == ("config", "interface") and "." in canonical:
                    return "config-subif"
                if key == ("config", "router") and len(parts) < 3:
                    raise IosError(len(" ".join(w for w, _ in words)) + 1, "% Incomplete command.")
                return new
        return None

    def _banner(self, canonical: str, words) -> float:
        router = self.router
        parts = canonical.split(" ", 2)
        if len(parts) < 3:
            raise IosError(len(canonical), "% Incomplete command.")
        kind, rest = parts[1], parts[2]
        delim = "^C" if rest.startswith("^C") else rest[0]
        body = rest[len(delim) :]
        for child in list(router.running.children):
            if child.text.startswith(f"banner {kind} "):
                router.running.children.remove(child)
        node = Node(f"banner {kind} ^C")
        router.running.children.append(node)
        if delim in body:
            node.text += body[: body.index(delim)]
            self.prompt()
        else:
            shown = "^C" if delim == "^C" else delim
            self.write(f"Enter TEXT message.  End with the character '{shown}'." + CR)
            self.banner = (node, delim, [body] if body else [])
        return router.cost(COST_LINE)

    def _crypto_key(self, canonical: str) -> float:
        router = self.router
        if router.hostname == "Router":
            self.write("% Please define a hostname other than Router." + CR)
            self.prompt()
            return router.cost(COST_LINE)
        domain = router.domain_name()
        if not domain:
            self.write("% Please define a domain-name first." + CR)
            self.prompt()
            return router.cost(COST_LINE)
        match = re.search(r"modulus (\d+)", canonical)

        def generate(bits: int) -> float:
            self.write(f"The name for the keys will be: {router.hostname}.{domain}" + CR + CR)
            self.write(f"% The key modulus size is {bits} bits" + CR)
            self.write(f"% Generating {bits} bit RSA keys, keys will be non-exportable..." + CR)
            delay = router.cost(0.5 * (bits / 1024) ** 2)
            router.rsa_modulus = bits

            def done() -> None:
                self.write(f"[OK] (elapsed time was {max(1, round(delay))} seconds)" + CR)
                self.prompt()
                router.log("%SSH-5-ENABLED: SSH 1.99 has been enabled")

            router.later(delay, done)
            return delay

        if match:
            return generate(int(match.group(1)))
        self.write(crlf(MODULUS_QUESTION.format(name=f"{router.hostname}.{domain}")))

        def answer(text: str) -> float:
            bits = int(text) if text.strip().isdigit() else 1024
            return generate(bits)

        return self.ask("How many bits in the modulus [1024]: ", answer)


def _cisco_mac(mac: str) -> str:
    """ "00:1e:7a:12:34:01" as IOS writes a MAC: "001e.7a12.3401"."""
    digits = mac.replace(":", "").lower()
    return ".".join(digits[i : i + 4] for i in range(0, 12, 4))


def _hash_secrets(text: str, router: IosXeRouter) -> str:
    """IOS never shows a clear-text secret: ``secret [0] X`` becomes ``secret 9 $9$…``, and
    ``password [0] X`` becomes ``password 7 …`` under service password-encryption."""
    words = text.split()
    if words[0] not in ("username", "enable"):
        return text
    for kind in ("secret", "password"):
        if kind in words:
            index = words.index(kind)
            tail = words[index + 1 :]
            if len(tail) == 2 and tail[0] == "0":
                tail = tail[1:]
            if len(tail) != 1:
                return text
            if kind == "secret":
                encoded = ["9", ciscohash.type9_hash(tail[0])]
            elif router.running.find("service password-encryption") is not None:
                encoded = ["7", ciscohash.type7_encode(tail[0])]
            else:
                encoded = ["0", tail[0]] if words[0] == "enable" else tail
            return " ".join(words[: index + 1] + encoded)
    return text


def _apply_pipe(text: str, pipe: list[str]) -> str:
    verb = pipe[0].lower()
    pattern = pipe[1] if len(pipe) > 1 else ""
    lines = text.split("\n")
    try:
        regex = re.compile(pattern)
    except re.error:
        regex = re.compile(re.escape(pattern))
    if "include".startswith(verb):
        lines = [line for line in lines if regex.search(line)]
    elif "exclude".startswith(verb):
        lines = [line for line in lines if not regex.search(line)]
    elif "begin".startswith(verb):
        for i, line in enumerate(lines):
            if regex.search(line):
                lines = lines[i:]
                break
        else:
            lines = []
    elif "section".startswith(verb):
        out, keep = [], False
        for line in lines:
            if line and not line.startswith(" "):
                keep = bool(regex.search(line))
            if keep:
                out.append(line)
        lines = out
    return "\n".join(line for line in lines if line) + "\n"


def apply_statement(parent: Node, text: str, negated: bool) -> None:
    """Set or remove one configuration line under ``parent`` with IOS replace semantics."""
    words = text.split()
    key_len = len(words)
    for prefix, length in SINGLETONS.items():
        if text == prefix or text.startswith(prefix + " "):
            key_len = min(max(length, len(prefix.split())), len(words))
            break
    if words[:2] == ["ip", "address"] and words[-1] == "secondary":
        key_len = len(words)
    if words[0] == "neighbor" and len(words) > 2:
        key_len = min(len(words), 3)
    key = words[:key_len]

    def same_key(child: Node) -> bool:
        child_words = child.text.split()
        if child.children:
            return False
        if child_words[:2] == ["ip", "address"] and child_words[-1] == "secondary":
            return child_words == words
        return child_words[:key_len] == key

    if negated:
        # "no X": drop lines starting with X's words (all of them for "no ip address")
        prefix = words if len(words) <= key_len else words
        parent.children = [
            c
            for c in parent.children
            if c.text != text
            and (
                c.children
                or not (c.text.split()[: len(prefix)] == prefix or c.text.split()[:key_len] == key)
                or c.text.startswith("no ")
            )
        ]
        if words[0] == "shutdown":
            return
        for shown in SHOWN_NEGATED:
            if text == shown or text.startswith(shown + " "):
                shown_words = len(shown.split()) if shown == "ip address" else len(words)
                line = "no " + " ".join(words[:shown_words])
                parent.children = [c for c in parent.children if c.text != line]
                parent.children.append(Node(line))
                break
        return
    no_line = "no " + text
    parent.children = [
        c
        for c in parent.children
        if not (
            same_key(c)
            or (c.text.startswith("no ") and no_line.startswith(c.text) and not c.children)
        )
    ]
    if text in HIDDEN_DEFAULTS:
        return
    parent.children.append(Node(text))


FACTORY_CONFIG = """\
version 17.9
service timestamps debug datetime msec
service timestamps log datetime msec
platform qfp utilization monitor load 80
platform punt-keepalive disable-kernel-core
platform console serial
hostname Router
boot-start-marker
boot-end-marker
vrf definition Mgmt-intf
 address-family ipv4
 exit-address-family
 address-family ipv6
 exit-address-family
no aaa new-model
login on-success log
license udi pid {model} sn {serial}
memory free low-watermark processor 68484
redundancy
ip forward-protocol nd
ip http server
ip http authentication local
ip http secure-server
control-plane
line con 0
 stopbits 1
line aux 0
line vty 0 4
 login
 transport input ssh
"""


@register
class IosXeRouter(SimRouter):
    platform = "cisco_iosxe"

    def __init__(self, spec: RouterSpec, clock: Clock):
        super().__init__(spec, clock)
        options = spec.options
        self.model = spec.model or DEFAULT_MODEL
        self.serial = spec.serial or f"FDO{zlib.crc32(spec.name.encode()) % 10**8:08d}"
        names = [normalize_interface(n) or n for n in spec.interfaces]
        physical = [n for n in names if re.match(r"[A-Za-z-]*", n).group(0) not in LOGICAL_TYPES]
        self.interface_names = physical or list(DEFAULT_INTERFACES)
        self.boot_seconds = float(options.get("boot_seconds", COST_RELOAD_BOOT))
        self.opt_dialog = bool(options.get("initial_dialog", True))
        self.opt_autoinstall = bool(options.get("autoinstall_prompt", False))
        self.opt_secret = bool(options.get("enable_secret_prompt", False))
        self.opt_pnp = bool(options.get("pnp_messages", True))
        self.startup: str | None = spec.startup_config
        self.running = Node("")
        self.rsa_modulus = 2048 if spec.startup_config else 0
        self.rsa_saved = self.rsa_modulus
        self.phase = "off"  # off, booting, dialog, autoinstall, secret, confirm, select, ...
        self.sessions: set[IosSession] = set()
        self.console_session: IosSession | None = None
        self.boot_time = 0.0
        self.reload_reason = "Reload Command"
        self._timers: list = []
        self._reload_timer = None
        self.reload_pending: tuple[float, str] | None = None  # ``reload in``: when, by whom
        self._revert_timer = None
        # ``configure terminal revert timer``: when, the archived running config, its file
        self.revert_pending: tuple[float, str, str] | None = None
        self.archive_count = 0
        self._typed = bytearray()
        self._last_cr = False
        self._secret = ""
        self._ssh_up: Management | None = None
        self.link_state: dict[str, bool] = {}

    # -- configuration state -----------------------------------------------------------------
    @property
    def hostname(self) -> str:
        for child in self.running.children:
            if child.text.startswith("hostname "):
                return child.text.split(" ", 1)[1]
        return "Router"

    def domain_name(self) -> str | None:
        for child in self.running.children:
            words = child.text.split()
            if words[:3] == ["ip", "domain", "name"] and len(words) > 3:
                return words[-1]
            if words[:2] == ["ip", "domain-name"] and len(words) > 2:
                return words[-1]
        return None

    def interfaces(self) -> list[Node]:
        nodes = [c for c in self.running.children if c.text.startswith("interface ")]
        return sorted(nodes, key=lambda n: _if_sort_key(n.text.split(" ", 1)[1]))

    def interface_allowed(self, name: str) -> bool:
        base = name.split(".")[0]
        kind = re.match(r"[A-Za-z-]+", name)
        if kind and kind.group(0) in LOGICAL_TYPES:
            return "." not in name
        return base in self.interface_names

    def ensure_interfaces(self) -> None:
        for name in self.interface_names:
            if self.running.find(f"interface {name}") is None:
                node = Node(f"interface {name}", [Node("no ip address"), Node("shutdown")])
                if name == "GigabitEthernet0":
                    node.children.insert(0, Node("vrf forwarding Mgmt-intf"))
                node.children.append(Node("negotiation auto"))
                self.running.children.append(node)

    def factory_config(self) -> Node:
        root = parse_config(FACTORY_CONFIG.format(model=self.model, serial=self.serial))
        self.running = root
        self.ensure_interfaces()
        return root

    def render_config(self, *, hidden: bool = False) -> str:
        """The running config as show running-config prints it; ``hidden=True`` also gives the
        lines IOS keeps out of it (SNMPv3 users), for NVRAM."""
        out = []
        children = [c for c in self.running.children if hidden or not _hidden(c.text)]
        children = sorted(children, key=lambda n: _rank(n.text))
        interfaces = iter(self.interfaces())
        previous_rank = None
        for child in children:
            if child.text.startswith("interface "):
                child = next(interfaces)
            rank = _rank(child.text)
            if previous_rank is not None and (rank != previous_rank or child.children):
                out.append("!")
            previous_rank = rank
            out += child.lines(hidden=hidden)
        out.append("!")
        out.append("end")
        return "\n".join(out) + "\n"

    def show_running(self) -> str:
        body = self.render_config()
        return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n!\n" + body

    def enable_secret(self) -> tuple[str, str] | None:
        for child in self.running.children:
            words = child.text.split()
            if words[:2] in (["enable", "secret"], ["enable", "password"]):
                if len(words) == 3:
                    return ("0", words[2])
                if len(words) >= 4:
                    return (words[2], words[3])
        return None

    def check_enable(self, candidate: str) -> bool:
        secret = self.enable_secret()
        return secret is not None and ciscohash.check(secret[0], secret[1], candidate)

    def users(self) -> dict[str, tuple[int, str, str]]:
        """username -> (privilege, type, stored secret)."""
        found = {}
        for child in self.running.children:
            words = child.text.split()
            if words[0] != "username" or len(words) < 4:
                continue
            privilege = 1
            if "privilege" in words:
                index = words.index("privilege")
                privilege = int(words[index + 1]) if index + 1 < len(words) else 1
            for kind in ("secret", "password"):
                if kind in words:
                    index = words.index(kind)
                    tail = words[index + 1 :]
                    if len(tail) == 1:
                        found[words[1]] = (privilege, "0", tail[0])
                    elif len(tail) >= 2:
                        found[words[1]] = (privilege, tail[0], tail[1])
        return found

    def set_enable_secret(self, plain: str) -> None:
        apply_statement(self.running, f"enable secret 9 {ciscohash.type9_hash(plain)}", False)

    # -- boot and the factory dialogs ----------------------------------------------------------
    def power_on(self) -> None:
        self.boot("Power On")

    def boot(self, reason: str) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []
        if self._reload_timer is not None:
            self._reload_timer.cancel()
        self._reload_timer = None
        self.reload_pending = None
        if self._revert_timer is not None:  # a reload ends a rollback that was pending
            self._revert_timer.cancel()
        self._revert_timer = None
        self.revert_pending = None
        self.reload_reason = reason
        self.phase = "booting"
        for session in list(self.sessions):
            if session.vty is not None:
                session.close()
                session.out.hangup()
        self.sessions = set()
        self.console_session = None
        if self.startup is not None:
            self.running = parse_config(self.startup)
            self.ensure_interfaces()
        else:
            self.factory_config()
        self.rsa_modulus = self.rsa_saved
        self.link_state = {}
        self.notify_management_change()
        self.write(crlf(BOOT_ROM.format(reason=reason, model=self.model, version=VERSION)))
        self.later(self.boot_seconds, self._booted)

    def _booted(self) -> None:
        self.boot_time = self.clock.now()
        self.write(
            crlf(
                BOOT_IOS.format(
                    version=VERSION,
                    model=self.model,
                    serial=self.serial,
                    ports=self.port_counts(),
                )
            )
        )
        if self.startup is None and self.opt_dialog:
            self.write(crlf(DIALOG))
            self.phase = "dialog"
        else:
            self._press_return()

    def _press_return(self) -> None:
        self.write(CR + CR + "Press RETURN to get started!" + CR + CR + CR)
        self.phase = "press-return"
        self.notify_management_change()
        if self.startup is None and self.opt_pnp:
            self.later(2.0, self.log, "%PNP-6-PNP_DISCOVERY_STARTED: PnP Discovery started")
            self.later(
                4.0,
                self.log,
                "%SYS-5-CONFIG_P: Configured programmatically by process PnP Agent Discovery "
                "from console as vty0",
            )
        for name in self.interface_names:
            node = self.running.find(f"interface {name}")
            if node is not None and node.find("shutdown") is None:
                self.link_up_later(node.text)

    def feed_boot(self, data: bytes) -> tuple[int, float]:
        """Input while the router is not at a CLI prompt: booting, dialogs, Press RETURN."""
        if self.phase in ("booting", "off", "reloading"):
            return len(data), 0.0  # typed during boot: lost
        secret_phase = self.phase in ("secret", "confirm")
        for index, byte in enumerate(data):
            if byte == 10 and self._last_cr:
                self._last_cr = False
                continue
            self._last_cr = byte == 13
            if byte in (10, 13):
                answer = self._typed.decode(errors="replace").strip()
                self._typed.clear()
                self.write(CR)
                self._answer(answer)
                return index + 1, self.cost(COST_LINE)
            if byte == 0x15:  # Ctrl-U
                self._typed.clear()
                continue
            if byte in (8, 127):
                if self._typed:
                    self._typed = self._typed[:-1]
                    if not secret_phase:
                        self.write("\b \b")
                continue
            if byte < 32:
                continue
            if self.phase == "press-return":
                continue
            self._typed.append(byte)
            if not secret_phase:
                self.write(chr(byte))
        return len(data), 0.0

    def _answer(self, answer: str) -> None:
        phase = self.phase
        lowered = answer.lower()
        if phase == "dialog":
            if lowered in ("no", "n"):
                self._after_dialog()
            elif lowered in ("yes", "y"):
                self.write("% The setup dialog is not simulated by the lab; continuing as 'no'.")
                self.write(CR)
                self._after_dialog()
            else:
                self.write("% Please answer 'yes' or 'no'." + CR)
                self.write("Would you like to enter the initial configuration dialog? [yes/no]: ")
        elif phase == "autoinstall":
            if lowered in ("", "yes", "y"):
                self._after_autoinstall()
            elif lowered in ("no", "n"):
                self._after_autoinstall()
            else:
                self.write("% Please answer 'yes' or 'no'." + CR)
                self.write("Would you like to terminate autoinstall? [yes]: ")
        elif phase == "secret":
            if (
                not (10 <= len(answer) <= 32)
                or not (re.search(r"[A-Z]", answer) and re.search(r"[a-z]", answer))
                or not re.search(r"\d", answer)
                or "cisco" in lowered
            ):
                self.write(
                    "% Invalid Password length - must contain 10 to 32 characters. "
                    "Password configuration failed" + CR
                )
                self.write(CR + "Enter enable secret: ")
                return
            self._secret = answer
            self.phase = "confirm"
            self.write(CR + "Confirm enable secret: ")
        elif phase == "confirm":
            if answer != self._secret:
                self.write(CR + "% Secrets do not match" + CR + CR + "Enter enable secret: ")
                self.phase = "secret"
                return
            self.write(crlf(SCRIPT.format(hash=ciscohash.type9_hash(answer))))
            self.phase = "select"
        elif phase == "select":
            choice = answer or "2"
            if choice == "0":
                self.set_enable_secret(self._secret)
                self._press_return()
            elif choice == "1":
                self.write(
                    CR + "Would you like to enter the initial configuration dialog? [yes/no]: "
                )
                self.phase = "dialog"
            elif choice == "2":
                self.set_enable_secret(self._secret)
                self.startup = self.render_config(hidden=True)
                self.write(crlf(SAVED_FROM_SETUP))
                self._press_return()
            else:
                self.write("Enter your selection [2]: ")
        elif phase == "press-return":
            session = IosSession(self, self, vty=None, privilege=1)
            session.last_cr = self._last_cr
            self.sessions.add(session)
            self.console_session = session
            self.phase = "up"
            session.prompt()

    def _after_dialog(self) -> None:
        if self.opt_autoinstall:
            self.phase = "autoinstall"
            self.write(CR + "Would you like to terminate autoinstall? [yes]: ")
        else:
            self._after_autoinstall()

    def _after_autoinstall(self) -> None:
        if self.opt_secret and self.enable_secret() is None:
            self.phase = "secret"
            self.write(crlf(SECRET_INTRO))
        else:
            self._press_return()

    # -- console plumbing ----------------------------------------------------------------------
    def feed(self, data: bytes) -> tuple[int, float]:
        if self.faults.silent:
            return len(data), 0.0
        if self.phase != "up" or self.console_session is None:
            return self.feed_boot(data)
        return self.console_session.feed(data)

    # the router is its console session's Console: route to SimRouter.write
    def hangup(self) -> None:
        pass

    def state(self) -> str:
        if self.phase != "up" or self.console_session is None:
            return self.phase
        session = self.console_session
        if session.pager is not None:
            return "more"
        return session.mode if session.mode == "exec" else session.modes[-1]

    def later(self, router_seconds: float, callback, *args) -> None:
        handle = self.clock.call_later(router_seconds, callback, *args)
        self._timers = [t for t in self._timers if not t.cancelled()][-16:]
        self._timers.append(handle)

    # -- reload in N: the timer a remote change is made under --------------------------------
    def reload_schedule(self, router_seconds: float, *, by: str) -> None:
        """``reload in``: a new timer replaces the one pending (as on IOS)."""
        self.reload_cancel()
        self.reload_pending = (self.clock.now() + self.clock.scaled(router_seconds), by)
        # not among ``_timers``: stopping PnP discovery must not cancel it; a boot does
        self._reload_timer = self.clock.call_later(router_seconds, self._reload_fire)

    def reload_cancel(self) -> bool:
        """``reload cancel``: False when no reload was scheduled."""
        if self._reload_timer is None:
            return False
        self._reload_timer.cancel()
        self._reload_timer = None
        self.reload_pending = None
        self.write(SHUTDOWN_ABORTED)
        return True

    def _reload_fire(self) -> None:
        self._reload_timer = None
        self.reload_pending = None
        self.write(SHUTDOWN_NOW)
        self.reload("Reload Command")

    # -- configure terminal revert timer N: IOS's confirmed change -----------------------------
    def archive_path(self) -> str | None:
        """The ``archive`` > ``path`` URL of the running config, if one is set."""
        archive = self.running.find("archive")
        if archive is None:
            return None
        for child in archive.children:
            words = child.text.split()
            if len(words) > 1 and words[0] == "path":
                return words[1]
        return None

    def revert_schedule(self, router_seconds: float, *, by: str, path: str) -> None:
        """Archive the running config and put it back in ``router_seconds`` unless
        confirmed. A change entered while one is pending restarts the timer and keeps the
        first archive: rolling back goes to the state before every unconfirmed change."""
        if self.revert_pending is None:
            self.archive_count += 1
            name = f"{path}-{time.strftime('%b-%d-%H-%M-%S', time.gmtime())}-{self.archive_count}"
            saved = self.render_config(hidden=True)
        else:
            _, saved, name = self.revert_pending
            self._revert_timer.cancel()
        self.revert_pending = (self.clock.now() + self.clock.scaled(router_seconds), saved, name)
        self._revert_timer = self.clock.call_later(router_seconds, self._revert_fire)
        minutes = round(router_seconds / 60)
        self.log(
            f"%ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_START_ABSTIMER: User: {by}: "
            f"Scheduled to rollback to config {name} in {minutes} minutes"
        )

    def revert_cancel(self, *, by: str) -> bool:
        """``configure confirm``: False when no rollback was pending."""
        if self._revert_timer is None:
            return False
        self._revert_timer.cancel()
        self._revert_timer = None
        self.revert_pending = None
        self.log(
            f"%ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_CONFIRM: User: {by}: "
            "Confirm the configuration change"
        )
        return True

    def _revert_fire(self) -> None:
        """The timer ran out: the archived running config replaces the running one (as
        ``configure replace`` does), so what was changed since goes away."""
        assert self.revert_pending is not None
        _, saved, name = self.revert_pending
        self._revert_timer = None
        self.revert_pending = None
        self.log(f"%ARCHIVE_DIFF-5-ROLLBK_CNFMD_CHG_ROLLBACK_START: Start rolling to: {name}")
        self.running = parse_config(saved)
        self.ensure_interfaces()
        self.notify_management_change()

    def show_reload(self) -> str:
        if self.reload_pending is None:
            return "No reload is scheduled.\n"
        at, by = self.reload_pending
        left = max(0, round((at - self.clock.now()) / (self.clock.time_scale or 1)))
        return (
            f"Reload scheduled in {left // 60} minutes and {left % 60} seconds by {by}\n"
            "Reload reason: Reload Command\n"
        )

    def log(self, message: str) -> None:
        """An unsolicited syslog line on the console (when logging console is on)."""
        if self.running.find("no logging console") is not None or self.phase == "booting":
            return
        stamp = time.strftime("%b %d %H:%M:%S", time.gmtime())
        millis = int((time.time() % 1) * 1000)
        self.write(f"{CR}*{stamp}.{millis:03d}: {message}{CR}")
        session = self.console_session
        line_con = self.running.find("line con 0")
        if session and line_con is not None and line_con.find("logging synchronous"):
            self.write(session.prompt_text() + session.typed.decode(errors="replace"))

    def stop_pnp(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    def link_up_later(self, interface_line: str) -> None:
        name = interface_line.split(" ", 1)[1]
        if self.link_state.get(name) or name.split(".")[0] not in self.interface_names:
            return
        if "." in name:
            return
        self.link_state[name] = True
        self.later(2.0, self._log_link, name)
        self.later(3.0, self._log_line_protocol, name)

    def _log_link(self, name: str) -> None:
        """A cabled port whose far end is down or shut comes up to "down" (no carrier)."""
        state = "up" if self.link_up(name) else "down"
        self.log(f"%LINK-3-UPDOWN: Interface {name}, changed state to {state}")

    def _log_line_protocol(self, name: str) -> None:
        if self.link_up(name):
            self.log(f"%LINEPROTO-5-UPDOWN: Line protocol on Interface {name}, changed state to up")

    def config_changed(self, session: IosSession) -> None:
        who = "console by console" if session.vty is None else (f"{session.user} on {session.vty}")
        self.later(0.5, self.log, f"%SYS-5-CONFIG_I: Configured from {who}")
        self.notify_management_change()

    def reload(self, reason: str) -> None:
        self.log(f"%SYS-5-RELOAD: Reload requested by console. Reload Reason: {reason}.")
        self.phase = "reloading"
        self.later(0.5, self.boot, reason)

    # -- management plane ----------------------------------------------------------------------
    def management_ssh(self) -> bool:
        if not self.rsa_modulus:
            return False
        vty = self.running.find("line vty 0 4")
        if vty is None:
            return False
        transport = next(
            (c.text for c in vty.children if c.text.startswith("transport input")), None
        )
        if transport is None or not ("ssh" in transport or "all" in transport):
            return False
        aaa = self.running.find("aaa new-model") is not None
        login_local = vty.find("login local") is not None
        return (aaa or login_local) and bool(self.users())

    def management(self) -> Management | None:
        if self.phase not in ("up", "press-return", "dialog"):
            return None
        if not self.management_ssh():
            return None
        candidates = []
        for node in self.interfaces():
            if node.find("shutdown") is not None:
                continue
            address = next(
                (
                    c.text.split()[2]
                    for c in node.children
                    if c.text.startswith("ip address ") and len(c.text.split()) >= 4
                ),
                None,
            )
            if address is None:
                continue
            vrf = None
            for c in node.children:
                words = c.text.split()
                if words[:2] == ["vrf", "forwarding"] or words[:3] == ["ip", "vrf", "forwarding"]:
                    vrf = words[-1]
            name = node.text.split(" ", 1)[1]
            score = 3
            if vrf and "mgmt" in vrf.lower():
                score = 0
            elif name in ("GigabitEthernet0",) or name.startswith("Management"):
                score = 1
            elif name.startswith("Loopback"):
                score = 2
            candidates.append((score, address, vrf))
        if not candidates:
            return None
        candidates.sort(key=lambda c: c[0])
        _, address, vrf = candidates[0]
        users = tuple(
            ManagementUser(name=name, privilege=priv)
            for name, (priv, _kind, _stored) in sorted(self.users().items())
        )
        return Management(address=address, vrf=vrf, users=users, ssh=True, netconf=False)

    def addresses(self) -> list[str]:
        """Every address on an interface that is not shut down (the lab may map several)."""
        found = []
        for node in self.interfaces():
            if node.find("shutdown") is not None:
                continue
            for c in node.children:
                words = c.text.split()
                if words[:2] == ["ip", "address"] and len(words) >= 4:
                    found.append(words[2])
        return found

    def check_login(self, username: str, password: str) -> bool:
        entry = self.users().get(username)
        return entry is not None and ciscohash.check(entry[1], entry[2], password)

    def open_cli(self, console: Console, username: str) -> IosSession:
        privilege = self.users().get(username, (1, "", ""))[0]
        index = len([s for s in self.sessions if s.vty is not None])
        session = IosSession(self, console, vty=f"vty{index}", privilege=privilege)
        session.user = username
        self.sessions.add(session)
        session.prompt()
        return session

    # -- ports and LLDP --------------------------------------------------------------------------
    def port_name(self, name: str) -> str | None:
        full = normalize_interface(name) or name  # as the model's own names were normalized
        return full if full in self.interface_names else None

    def is_up(self) -> bool:
        return self.phase not in ("off", "booting", "reloading")

    def port_enabled(self, port: str) -> bool:
        node = self.running.find(f"interface {port}")
        return node is not None and node.find("shutdown") is None

    def lldp_running(self) -> bool:
        return self.running.find("lldp run") is not None

    def lldp_on(self, port: str) -> bool:
        """``lldp run`` turns LLDP on for every port (the lab keeps no per-port off switch)."""
        return self.lldp_running()

    def base_mac(self) -> str:
        """A MAC of Cisco's that stays the same for a router name."""
        low = divmod(zlib.crc32(self.name.encode()) % 65536, 256)
        return ":".join(f"{b:02x}" for b in (0x00, 0x1E, 0x7A, *low, 0x01))

    def lldp_advert(self, port: str) -> LldpAdvert:
        """As IOS-XE sends it: the system name carries the domain, the port id is the short
        interface name, the port description the interface's description (else its name)."""
        domain = self.domain_name()
        node = self.running.find(f"interface {port}")
        description = next(
            (c.text.split(" ", 1)[1] for c in node.children if c.text.startswith("description ")),
            port,
        )
        return LldpAdvert(
            chassis_id=self.base_mac(),
            system_name=f"{self.hostname}.{domain}" if domain else self.hostname,
            system_description=SYSTEM_DESCRIPTION,
            port_id=short_interface(port),
            port_id_subtype="Interface name",
            port_description=description,
        )

    def _lldp_rows(self) -> list[tuple[str, LldpAdvert]]:
        return sorted(self.lldp_neighbours(), key=lambda row: _if_sort_key(row[0]))

    def show_lldp_neighbors(self) -> str:
        out = [
            LLDP_CAPABILITY_CODES,
            "Device ID           Local Intf     Hold-time  Capability      Port ID",
        ]
        rows = self._lldp_rows()
        for port, advert in rows:
            out.append(
                f"{advert.system_name[:20]:<20}{short_interface(port):<15}{advert.ttl:<11}"
                f"{advert.enabled_capabilities:<16}{advert.port_id}"
            )
        out += ["", f"Total entries displayed: {len(rows)}"]
        return "\n".join(out) + "\n"

    def show_lldp_neighbors_detail(self) -> str:
        out = []
        rows = self._lldp_rows()
        for port, advert in rows:
            out += [
                "-" * 48,
                f"Local Intf: {short_interface(port)}",
                f"Chassis id: {_cisco_mac(advert.chassis_id)}",
                f"Port id: {advert.port_id}",
                f"Port Description: {advert.port_description}",
                f"System Name: {advert.system_name}",
                "",
                "System Description: ",
                advert.system_description,
                "",
                f"Time remaining: {advert.ttl} seconds",
                f"System Capabilities: {advert.system_capabilities}",
                f"Enabled Capabilities: {advert.enabled_capabilities}",
                "Management Addresses - not advertised",
                "Auto Negotiation - not supported",
                "Physical media capabilities - not advertised",
                "Media Attachment Unit type - not advertised",
                "Vlan ID: - not advertised",
                "",
            ]
        out += ["", f"Total entries displayed: {len(rows)}"]
        return "\n".join(out) + "\n"

    # -- show commands ---------------------------------------------------------------------------
    def _iface_rows(self):
        for node in self.interfaces():
            name = node.text.split(" ", 1)[1]
            shut = node.find("shutdown") is not None
            address = "unassigned"
            method = "unset"
            description = ""
            for c in node.children:
                words = c.text.split()
                if words[:2] == ["ip", "address"] and len(words) >= 4:
                    address = words[2]
                    method = "manual"
                elif words[:2] == ["ip", "address"] and words[2:3] == ["dhcp"]:
                    method = "DHCP"
                elif words[0] == "description":
                    description = c.text.split(" ", 1)[1] if len(words) > 1 else ""
            if shut:
                status, proto = "administratively down", "down"
            else:
                # a subinterface's line protocol is its port's
                status = "up"
                proto = "up" if self.link_up(name.split(".")[0]) else "down"
            yield name, address, method, status, proto, description

    def show_ip_interface_brief(self) -> str:
        out = ["Interface              IP-Address      OK? Method Status                Protocol"]
        for name, address, method, status, proto, _ in self._iface_rows():
            out.append(f"{name:<22} {address:<15} YES {method:<6} {status:<21} {proto}")
        return "\n".join(out) + "\n"

    def show_interfaces_description(self) -> str:
        out = ["Interface                      Status         Protocol Description"]
        for name, _a, _m, status, proto, description in self._iface_rows():
            status = "admin down" if status.startswith("admin") else status
            out.append(
                f"{short_interface(name):<30} {status:<14} {proto:<8} {description}".rstrip()
            )
        return "\n".join(out) + "\n"

    def show_inventory(self) -> str:
        return (
            f'NAME: "Chassis", DESCR: "Cisco {self.model} Chassis"\n'
            f"PID: {self.model:<17} , VID: V01  , SN: {self.serial}\n\n"
            'NAME: "Power Supply Module 0", DESCR: "Cisco 250W AC Power Supply"\n'
            "PID: PWR-CC1-250WAC     , VID: V01  , SN: ART2412F0AB\n\n"
            f'NAME: "module R0", DESCR: "Cisco {self.model} Route Processor"\n'
            f"PID: {self.model:<17} , VID: V01  , SN: {self.serial}\n\n"
        )

    def show_ip_route(self) -> str:
        out = ["Codes: L - local, C - connected, S - static, O - OSPF, B - BGP", ""]
        out.append("Gateway of last resort is not set")
        out.append("")
        for name, address, _m, _s, proto, _d in self._iface_rows():
            if address != "unassigned" and proto == "up":
                out.append(f"L        {address}/32 is directly connected, {name}")
        return "\n".join(out) + "\n"

    def port_counts(self) -> str:
        """ "4 Gigabit Ethernet interfaces" lines, one per port speed, as show version has."""
        kinds = {"GigabitEthernet": "Gigabit", "TenGigabitEthernet": "Ten Gigabit"}
        counts: dict[str, int] = {}
        for name in self.interface_names:
            kind = re.match(r"[A-Za-z-]*", name).group(0)
            label = kinds.get(kind, kind.replace("GigE", " Gigabit"))
            counts[label] = counts.get(label, 0) + 1
        return "".join(f"{n} {label} Ethernet interfaces\n" for label, n in counts.items())

    def show_version(self) -> str:
        up = max(0, int(self.clock.now() - self.boot_time))
        days, rest = divmod(up, 86400)
        hours, minutes = divmod(rest // 60, 60)
        uptime = (
            f"{days} days, {hours} hours, {minutes} minutes"
            if days
            else (f"{hours} hours, {minutes} minutes")
        )
        return (
            f"Cisco IOS XE Software, Version {VERSION}\n{SYSTEM_DESCRIPTION}\n\n"
            "ROM: 17.3(5r)\n\n"
            f"{self.hostname} uptime is {uptime}\n"
            "Uptime for this control processor is " + uptime + "\n"
            f"System returned to ROM by {self.reload_reason}\n"
            f'System image file is "bootflash:c8000be-universalk9.{VERSION}.SPA.bin"\n'
            f"Last reload reason: {self.reload_reason}\n\n"
            f"cisco {self.model} (1RU) processor with 3788415K/6147K bytes of memory.\n"
            f"Processor board ID {self.serial}\n"
            "Router operating mode: Autonomous\n"
            + self.port_counts()
            + "32768K bytes of non-volatile configuration memory.\n"
            "8388608K bytes of physical memory.\n"
            "7086079K bytes of flash memory at bootflash:.\n\n"
            f"Base Ethernet MAC Address          : {self.base_mac()}\n"
            "Configuration register is 0x2102\n"
        )
