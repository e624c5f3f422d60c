"""What every router driver is: plain data in, plain results out, one ``typing.Protocol``.

Drivers know nothing of Django, runs or steps. The task layer hands them a ``ConsoleTarget``
(how to reach the router's serial console through its console server), a ``ManagementTarget``
(its address after the bootstrap), ``Credentials`` and config text; they return ``PushResult``
/ ``VerifyResult`` or raise a ``DriverError`` whose ``reason`` is a short, stable code the run
records (``line_busy``, ``line_dropped``, ``no_answer``, ``auth_failed``, ``not_factory``,
``config_rejected``, ``echo_mismatch``, ``commit_failed``, ``unreachable``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

BITS_PER_BYTE_8N1 = 10  # start bit + 8 data bits + stop bit


def line_rate(baud: int) -> float:
    """Bytes per second a serial line carries at ``baud`` with 8N1 framing."""
    return baud / BITS_PER_BYTE_8N1


@dataclass(frozen=True)
class ConsoleTarget:
    """One router's console line, as the design wires it: the console server's address, and
    either reverse telnet to ``port`` or SSH to ``port`` with the line in ``username``."""

    host: str
    port: int
    method: Literal["telnet", "ssh"] = "telnet"
    username: str = ""  # SSH: the console server's user name carrying the line, e.g. "ops:7"
    password: str = field(default="", repr=False)  # SSH: the console server's password
    baud: int = 9600
    line: int = 0
    server: str = ""  # the console server's name (for messages and per-server limits)

    @property
    def key(self) -> str:
        """A stable name for the line: one session on it at a time."""
        return f"{self.server or self.host}:{self.line or self.port}"

    @property
    def bytes_per_second(self) -> float:
        return line_rate(self.baud)


@dataclass(frozen=True)
class ManagementTarget:
    """The router on the management network after the bootstrap."""

    host: str
    port: int = 22
    netconf_port: int = 830


@dataclass(frozen=True)
class Credentials:
    """Who the bootstrap creates and how the engine logs in afterwards. Secrets never repr."""

    username: str
    password: str = field(repr=False)
    enable_secret: str = field(default="", repr=False)
    root_password: str = field(default="", repr=False)

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.enable_secret, self.root_password) if s]


@dataclass(frozen=True)
class PushResult:
    """What a push did: ``changed`` is False when the router already had the config."""

    changed: bool
    diff: str = ""
    failed: bool = False
    output: str = ""
    bytes: int = 0
    seconds: float = 0.0
    repairs: int = 0
    wire_seconds: float = 0.0  # the paced, pipelined part alone (bytes / wire_seconds = rate)
    # a rollback timer may be running over the config (Junos ``commit confirmed``, IOS
    # ``configure terminal revert timer``): this push's, or an earlier attempt's when the
    # router had it all already. ``mgmt_confirm(pushed=...)`` stops it, or finds it ran out
    confirm_pending: bool = False


@dataclass(frozen=True)
class VerifyResult:
    """What verification looked at and what it found."""

    ok: bool
    checks: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Compliance:
    """How far a router's running config holds the rendered one. ``missing``: the rendered
    statements the router does not have, each spelled with its context (``interface Gi0 >
    no shutdown``, ``[edit system] domain-name x;``); ``unverifiable``: rendered statements the
    platform never shows back (IOS ``snmp-server user``, ``crypto key generate``)."""

    checked: int
    missing: tuple[str, ...] = ()
    unverifiable: tuple[str, ...] = ()

    @property
    def compliant(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class InterfaceExpectation:
    """What verification expects of one interface the design configures: shut down or not as
    the design says (``enabled``), and for the management interface (``line_up``) its line
    protocol up too. A link's far end may not be turned up yet, so its line state is
    recorded (with ``peer``, the far end of its cable), not required. ``await_neighbour``:
    the far end runs LLDP by now (its full config is in), so verification waits a while for
    its advertisement when the line is up and LLDP has not shown it yet."""

    name: str
    enabled: bool = True
    line_up: bool = False
    peer_device: str = ""  # the far end of the port's cable, as the design names it
    peer_port: str = ""
    await_neighbour: bool = False

    @property
    def peer(self) -> str:
        return f"{self.peer_device} {self.peer_port}".strip()


@dataclass(frozen=True)
class Neighbour:
    """An LLDP neighbour as a router shows it on one of its ports: the name the far end
    advertises (IOS adds its domain: ``er2.site.example``), its port id (IOS sends the port's
    short name, ``Gi0/0/1``; Junos a local number, ``528``) and its port description (Junos:
    the port's name when it has no description)."""

    system: str
    port_id: str
    port_description: str = ""

    @property
    def port(self) -> str:
        """The far port's name, when the neighbour says it: its id when that names a port
        (IOS; Junos with ``port-id-subtype interface-name``), else its description when that
        is a port's name (Junos sends the name of a port without a description); ``""``
        when neither does (Junos's default: a number, and the port's own description)."""
        for candidate in (self.port_id, self.port_description):
            if PORT_NAME.match(candidate) and re.search(r"[A-Za-z]", candidate):
                return candidate
        return ""


PORT_NAME = re.compile(r"^([A-Za-z-]*?)-?([0-9][0-9/.:]*)$")


def same_port(one: str, other: str) -> bool:
    """Whether two spellings name one port: ``Gi0/0/1`` and ``GigabitEthernet0/0/1`` (IOS
    shortens the type to a prefix of it), ``ge-0/0/1`` and ``ge-0/0/1``."""
    if one.lower() == other.lower():
        return True
    a, b = PORT_NAME.match(one.strip()), PORT_NAME.match(other.strip())
    if a is None or b is None or a.group(2) != b.group(2):
        return False
    short, long = sorted((a.group(1).lower(), b.group(1).lower()), key=len)
    return bool(short) and long.startswith(short)


#: What LLDP says of a cabled port's cable (``VerifyResult.checks["cabling"]``).
CABLED_AS_DESIGNED, CABLE_NOT_SEEN, CABLED_OTHERWISE = "as designed", "not seen", "otherwise"


def neighbours_verdict(
    expected: Sequence[InterfaceExpectation], neighbours: Mapping[str, Neighbour]
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Compare the LLDP neighbours a router shows (its port → neighbour) with the design's
    cabling. A cabled port whose neighbour is the design's far end (its name up to the
    domain, its port in any spelling) is ``"<device> <port>"``; one with no neighbour is
    ``"none"`` — recorded, not a problem: the far end may not be turned up yet, and LLDP
    takes its hello interval to show a new neighbour; a port that sees another device or
    port is a problem: it is cabled otherwise than designed. A neighbour that does not name
    its port (see ``Neighbour.port``) is judged by its device alone. Returns what each port
    saw, each port's cabling verdict (``CABLED_AS_DESIGNED``…) and the problems."""
    checks: dict[str, str] = {}
    cabling: dict[str, str] = {}
    problems: list[str] = []
    for want in expected:
        if not want.peer_device:
            continue
        physical = want.name.split(".")[0]  # a Junos logical unit: its port's neighbour
        seen = next((n for port, n in neighbours.items() if same_port(port, physical)), None)
        if seen is None:
            checks[want.name], cabling[want.name] = "none", CABLE_NOT_SEEN
            continue
        shown = f"{seen.system} {seen.port or '(its port unnamed)'}"
        checks[want.name], cabling[want.name] = shown, CABLED_AS_DESIGNED
        other_device = seen.system.split(".")[0].lower() != want.peer_device.lower()
        other_port = bool(seen.port) and not same_port(seen.port, want.peer_port)
        if other_device or other_port:
            cabling[want.name] = CABLED_OTHERWISE
            problems.append(
                f"{want.name} sees {shown} over LLDP; the design cables it to {want.peer}"
            )
    return checks, cabling, problems


#: How often verification reads the LLDP neighbours again while it waits for one.
LLDP_POLL_SECONDS = 2.0


def neighbours_awaited(
    read: Callable[[], Mapping[str, Neighbour]],
    expected: Sequence[InterfaceExpectation],
    states: Mapping[str, tuple[bool, bool]],
    *,
    wait: float,
    first: Mapping[str, Neighbour] | None = None,
    poll: float = LLDP_POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Mapping[str, Neighbour], float]:
    """The LLDP neighbours (``first``, or what ``read`` returns), read again every ``poll``
    seconds for up to ``wait`` while a port whose far end runs LLDP (``await_neighbour``)
    has its line up (``states``: port → (admin up, line up)) and no neighbour: a router
    whose LLDP has just started hears a far end that started before it only at the far
    end's next advertisement, up to LLDP's 30 s timer later. Returns the neighbours and the
    seconds waited (to a tenth)."""
    started = clock()
    neighbours = read() if first is None else first
    while True:
        waited = clock() - started
        pending = [
            want
            for want in expected
            if want.await_neighbour
            and states.get(want.name.split(".")[0], (False, False))[1]
            and not any(same_port(port, want.name.split(".")[0]) for port in neighbours)
        ]
        if not pending or waited >= wait:
            return neighbours, round(waited, 1)
        sleep(min(poll, wait - waited))
        neighbours = read()


def cabling_checks(
    read: Callable[[], Mapping[str, Neighbour]],
    expected: Sequence[InterfaceExpectation],
    states: Mapping[str, tuple[bool, bool]],
    *,
    wait: float,
    first: Mapping[str, Neighbour] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """A driver's LLDP part of verification: the neighbours, waited for as
    ``neighbours_awaited`` does, judged by ``neighbours_verdict``. Returns the checks to
    record (``neighbours``, ``cabling``, and ``lldp_waited_seconds`` when it waited) and the
    problems."""
    neighbours, waited = neighbours_awaited(read, expected, states, wait=wait, first=first)
    seen, cabling, problems = neighbours_verdict(expected, neighbours)
    checks: dict[str, Any] = {"neighbours": seen, "cabling": cabling}
    if waited:
        checks["lldp_waited_seconds"] = waited
    return checks, problems


def interfaces_verdict(
    expected: Sequence[InterfaceExpectation], states: Mapping[str, tuple[bool, bool]]
) -> tuple[dict[str, str], list[str]]:
    """Compare what the router shows — ``states``: interface name → (administratively up,
    line protocol up) — with the design. Returns what each interface showed (``up/up``,
    ``up/down``, ``admin-down/down``, ``missing``, with its peer) and the problems."""
    checks: dict[str, str] = {}
    problems: list[str] = []
    for want in expected:
        state = states.get(want.name)
        if state is None:
            checks[want.name] = "missing"
            problems.append(f"{want.name} is missing")
            continue
        admin_up, line_up = state
        shown = f"{'up' if admin_up else 'admin-down'}/{'up' if line_up else 'down'}"
        checks[want.name] = f"{shown} (to {want.peer})" if want.peer else shown
        if want.enabled and not admin_up:
            problems.append(f"{want.name} is shut down; the design enables it")
        elif not want.enabled and admin_up:
            problems.append(f"{want.name} is not shut down; the design disables it")
        elif want.line_up and not line_up:
            problems.append(f"{want.name} is {shown}")
    return checks, problems


@dataclass(frozen=True)
class ConsoleState:
    """What a freshly woken console showed."""

    factory: bool
    prompt: str
    hostname: str = ""
    notes: tuple[str, ...] = ()


class DriverError(Exception):
    """A driver could not do what it was asked; ``reason`` is the recorded code."""

    reason = "driver_error"
    retryable = False

    def __init__(
        self, message: str, *, line: int | None = None, output: str = "", result: dict | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.output = output
        self.result = result or {}  # what the step found before failing (kept on the Step)


class LineBusy(DriverError):
    reason = "line_busy"
    retryable = True


class LineDropped(DriverError):
    reason = "line_dropped"
    retryable = True


class NoAnswer(DriverError):
    reason = "no_answer"
    retryable = True


class AuthFailed(DriverError):
    reason = "auth_failed"


class NotFactory(DriverError):
    reason = "not_factory"


# a first attempt finds the designed hostname in the router's saved (committed) config
TURNED_UP_BEFORE = (
    "(its saved configuration already carries its designed hostname: turned up before, by "
    "another run — retry that run to go on with it)"
)


class ConfigRejected(DriverError):
    reason = "config_rejected"


class EchoMismatch(DriverError):
    reason = "echo_mismatch"


class CommitFailed(DriverError):
    reason = "commit_failed"


class Unreachable(DriverError):
    reason = "unreachable"
    retryable = True


def confirmed_too_late(hostname: str, timer: str, held: Compliance, secrets: list[str]) -> None:
    """Raise CommitFailed when nothing was pending to confirm and the router lacks
    statements (``held``) of the config pushed under ``timer``: the timer ran out before the
    confirm came and took them back. All there: an earlier attempt confirmed it."""
    if held.compliant:
        return
    shown = "; ".join(held.missing[:3]) + ("; …" if len(held.missing) > 3 else "")
    raise CommitFailed(
        f"{hostname}: the full config was rolled back before it was confirmed (its {timer} "
        f"ran out); {len(held.missing)} of its {held.checked} statements are gone: "
        + scrub(shown, secrets, limit=300)
    )


@runtime_checkable
class RouterDriver(Protocol):
    """One router, two ways in. Console methods work on a factory-fresh box through its console
    server; management methods on the address and user the bootstrap created."""

    platform: str

    def console_open(self) -> ConsoleState:
        """Connect to the line, wake the router and reach a known, privileged state."""
        ...

    def console_push(
        self, config: str, *, resume: bool = False, progress: Callable[[int], None] | None = None
    ) -> PushResult:
        """Push (bootstrap) config lines over the console, paced and echo-verified. With
        ``resume``, only what the running config lacks; ``progress(bytes sent)`` is called
        during the push (a live page shows it)."""
        ...

    def console_commit(self, *, confirm_minutes: int) -> str:
        """Make the console push take effect with a safety net; returns what the router said."""
        ...

    def console_close(self) -> None: ...

    def mgmt_open(self) -> None:
        """Log in over the management network (proves the bootstrap works)."""
        ...

    def mgmt_running_config(self) -> str:
        """The running config as the router shows it, without what changes on every read
        (IOS "Current configuration : N bytes", "! Last configuration change at ...")."""
        ...

    def mgmt_compliance(self, rendered: str, running: str) -> Compliance:
        """Which statements of ``rendered`` the router lacks, judged the platform's way: the
        defaults it does not show, its own ordering and grouping are no difference."""
        ...

    def mgmt_push(self, config: str, *, confirm_minutes: int = 10) -> PushResult:
        """Push what the router lacks of ``config`` over management, under a rollback that
        runs out in ``confirm_minutes`` unless ``mgmt_confirm`` comes (Junos ``commit
        confirmed``, IOS ``configure terminal revert timer``)."""
        ...

    def mgmt_confirm(self, *, pushed: str | None = None) -> str:
        """Make everything pushed so far permanent (Junos confirming commit, IOS save).
        ``pushed`` is the config a push left under a rollback timer (its
        ``confirm_pending``), perhaps in another session: a router with no confirmed change
        pending any more must still hold it (an earlier attempt confirmed it), or the timer
        ran out and took it back, and CommitFailed says so instead of saving what is left."""
        ...

    def mgmt_verify(
        self,
        *,
        hostname: str,
        interfaces: Sequence[InterfaceExpectation],
        lldp_wait: float = 0.0,
    ) -> VerifyResult:
        """Compare the router's hostname and interfaces with the design
        (``interfaces_verdict``), and its cabling with what LLDP shows, waiting up to
        ``lldp_wait`` seconds for awaited neighbours (``neighbours_awaited``)."""
        ...

    def mgmt_close(self, *, keep: bool = False) -> None:
        """End the management session; ``keep`` parks it in ``PARKED_SESSIONS`` for the
        router's next step instead (only a session in a clean state: no open edit)."""


class SessionPool:
    """Open management sessions parked between one router's steps, per worker process.

    A router's steps over the management network (full config, verify, confirm, archive)
    run one after another; each used to open its own SSH/NETCONF session, a key exchange on
    both ends. A step that ends cleanly parks its session under the router's address and
    user; the next step takes it (the driver checks that it still answers) or opens a new
    one. A session nobody takes within ``idle_seconds`` is closed by ``sweep``.
    """

    def __init__(self, idle_seconds: float = 30.0):
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._parked: dict[tuple, tuple[float, object, Callable[[], None]]] = {}

    def park(self, key: tuple, session: object, close: Callable[[], None]) -> None:
        with self._lock:
            replaced = self._parked.pop(key, None)
            self._parked[key] = (time.monotonic(), session, close)
        if replaced is not None:
            close_quietly(replaced[2])
        self.sweep()

    def take(self, key: tuple) -> object | None:
        with self._lock:
            entry = self._parked.pop(key, None)
        self.sweep()
        return entry[1] if entry else None

    def sweep(self, *, idle_seconds: float | None = None) -> int:
        """Close the sessions parked longer than ``idle_seconds``; returns how many."""
        limit = self.idle_seconds if idle_seconds is None else idle_seconds
        now = time.monotonic()
        with self._lock:
            stale = [key for key, (at, _, _) in self._parked.items() if now - at >= limit]
            closers = [self._parked.pop(key)[2] for key in stale]
        for close in closers:
            close_quietly(close)
        return len(closers)

    def __len__(self) -> int:
        return len(self._parked)


def close_quietly(close: Callable[[], None]) -> None:
    try:
        close()
    except Exception:  # noqa: BLE001 - closing a dead session is not an error
        pass


PARKED_SESSIONS = SessionPool()


def management_key(platform: str, target: ManagementTarget, credentials: Credentials) -> tuple:
    """What a parked management session is found by: the router's address and our user."""
    return (platform, target.host, target.port, credentials.username)


def session_end(key: tuple, session: object, close: Callable[[], None], *, keep: bool) -> None:
    """End a driver's management session: parked for the router's next step (``keep``), or
    closed."""
    if keep:
        PARKED_SESSIONS.park(key, session, close)
    else:
        close_quietly(close)


def scrub(text: str, secrets: list[str], *, limit: int | None = 4000) -> str:
    """Remove every secret (and the argument of the keywords that carry one: passwords,
    secrets, SNMPv3 and routing-protocol keys) from ``text`` and keep its last ``limit``
    characters (None: all of it): what a Step may record."""
    for secret in sorted(set(filter(None, secrets)), key=len, reverse=True):
        text = text.replace(secret, "********")
    text = _SECRET_WORDS.sub(lambda m: m.group(1) + " ********", text)
    return text if limit is None else text[-limit:]


_SECRET_WORDS = re.compile(
    r"\b("
    r"secret(?: \d)?|password(?: \d)?|encrypted-password|plain-text-password-value"
    # SNMPv3 users: IOS `auth sha KEY priv aes 128 KEY`, Junos authentication-/privacy-key
    r"|auth (?:md5|sha\d*)|priv (?:des|3des|aes(?: \d+)?)"
    r"|authentication-key|privacy-key|authentication-password|privacy-password"
    # OSPF/BGP/IS-IS keys: IOS `message-digest-key 1 md5 KEY`, key chains' `key-string KEY`
    r"|message-digest-key \d+ md5(?: \d)?|key-string(?: \d)?"
    r") (?!\*{8})\S+",
    re.IGNORECASE,
)
