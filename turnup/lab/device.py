"""The contract between a simulated router and the rest of the lab.

A lab process runs everything on one asyncio loop (one thread). Three things meet a router:

* the **serial line** (``turnup.lab.line``): it carries the user's keystrokes to the router's
  UART at the line's baud rate, keeps them in the router's input buffer while the router is
  busy, drops what overflows ``input_buffer_bytes`` (the overrun model), and hands the buffered
  bytes to :meth:`SimRouter.feed` whenever the router is idle. The router answers through the
  :class:`Console` it was attached to; the line paces that output at the baud rate too.
* the **management plane** (``turnup.lab.mgmt``): once the router's *committed* configuration
  gives it an address, a user and SSH (see :meth:`SimRouter.management`), the lab listens on
  that address and opens CLI sessions (:meth:`SimRouter.open_cli`) — or, for Junos, NETCONF
  sessions (:meth:`SimRouter.open_netconf`) — on the same configuration state.
* the **lab control API**: faults (:class:`Faults`) are plain mutable flags read by the line
  and the router each time they matter.
* the **other routers**, through the lab's :class:`Cabling` (the lab file's ``links``): a
  cabled port's line protocol needs the far end too (:meth:`SimRouter.link_up`), and LLDP
  shows what the far end advertises (:meth:`SimRouter.lldp_neighbours`). Both are computed when
  read, from both routers' state at that moment, so nothing has to be told of a change — but
  for when each router started LLDP, which a router hears its neighbour's advertisements after
  (the ``lldp_timer`` and ``lldp_reinit`` options, :meth:`SimRouter.lldp_heard`).

Time: routers never sleep. They return busy durations from ``feed`` and schedule timers with
:class:`Clock`; both are *router seconds*, which the Clock (and the line, for busy time)
multiply by ``time_scale`` — so a test can run a ``commit confirmed 1`` rollback or a 2 s
commit in a few milliseconds with ``time_scale=0.001`` without the router knowing.

This module imports nothing from Django (the simulators must run without it).
"""

from __future__ import annotations

import abc
import asyncio
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

# Default size of a router's console input buffer (bytes the UART/tty holds while the CPU
# is busy). A writer that keeps at most this many bytes sent-but-not-echoed never overruns.
DEFAULT_INPUT_BUFFER_BYTES = 512


class Clock:
    """Loop time and timers, scaled.

    ``time_scale`` multiplies every router duration: 1.0 is real time, 0.01 runs router delays
    (boot, commit, write memory, commit-confirmed timers) 100 times faster. Line pacing (baud)
    is *not* scaled — the line rate is what the lab is about.
    """

    def __init__(self, *, time_scale: float = 1.0, loop: asyncio.AbstractEventLoop | None = None):
        self.time_scale = time_scale
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def now(self) -> float:
        """Loop time in real seconds (monotonic)."""
        return self.loop.time()

    def scaled(self, router_seconds: float) -> float:
        """Real seconds that ``router_seconds`` of router time take."""
        return max(0.0, router_seconds) * self.time_scale

    def call_later(self, router_seconds: float, callback: Callable[..., Any], *args: Any):
        """Run ``callback(*args)`` after ``router_seconds`` (scaled); returns a cancellable
        handle (``handle.cancel()``)."""
        return self.loop.call_later(self.scaled(router_seconds), callback, *args)


class Console(Protocol):
    """Where a router (or one of its sessions) writes its output.

    For the console session this is the serial line (output paced at baud, discarded while no
    client is connected); for a management session it is the SSH channel.
    """

    def write(self, data: bytes) -> None:
        """Queue output toward the user. Never blocks."""

    def hangup(self) -> None:
        """End the user's connection (the router closed the session: ``exit`` on a vty,
        ``close-session`` on NETCONF, a reload for management sessions)."""


class Session(Protocol):
    """One interactive session on a router: the console, a vty over SSH, a NETCONF session."""

    def feed(self, data: bytes) -> tuple[int, float]:
        """Process a prefix of ``data`` (bytes the user typed that reached the router).

        Returns ``(consumed, busy)``: how many bytes of ``data`` the router took (0 <
        consumed <= len(data), unless ``data`` is empty), and for how many router seconds its
        CPU is now busy before it reads the next byte (e.g. executing the command whose
        RETURN was the last consumed byte). The caller keeps ``data[consumed:]`` buffered and
        calls ``feed`` again once ``busy`` has elapsed. Echo is the router's job: it writes
        echoed characters to its Console while consuming them.
        """

    def close(self) -> None:
        """The user went away (SSH channel closed). Drop per-session state."""


@dataclass
class Faults:
    """Faults injected on a line or a router. Mutable: the control API flips them live.

    Line-level (read by the line / console server):
      ``drop_after_bytes``: hang up the client after that many bytes crossed the line (in
        either direction) in the current session; ``busy``: the line always answers
        "port in use" (a stuck session); ``wrong_password``: the console server rejects the
        configured password (as if it had been changed).
    Router-level (read by the router):
      ``silent``: the router reads nothing and says nothing (hung / wrong baud);
      ``slow_factor``: multiply every processing cost (a slow or loaded CPU);
      ``reboot_after_save``: the router reloads right after ``write memory`` / ``commit``;
      ``mgmt_down``: the management network does not reach the router (a cable, a VLAN, an
        ACL on the way): its SSH/NETCONF connections are cut before the key exchange.
    """

    drop_after_bytes: int | None = None
    busy: bool = False
    wrong_password: bool = False
    silent: bool = False
    slow_factor: float = 1.0
    reboot_after_save: bool = False
    mgmt_down: bool = False

    FIELDS: ClassVar[tuple[str, ...]] = (
        "drop_after_bytes",
        "busy",
        "wrong_password",
        "silent",
        "slow_factor",
        "reboot_after_save",
        "mgmt_down",
    )

    def update(self, values: dict[str, Any]) -> None:
        """Set faults from plain values (lab file, control API); raises ValueError on an
        unknown name or a value of the wrong kind, before changing anything."""
        parsed = {}
        for key, value in values.items():
            if key not in self.FIELDS:
                raise ValueError(f"unknown fault {key!r} (known: {', '.join(self.FIELDS)})")
            parsed[key] = _fault_value(key, value)
        for key, value in parsed.items():
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}


def _fault_value(key: str, value: Any) -> Any:
    if key == "drop_after_bytes":
        if value is None or value is False:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key}: a number of bytes or null, not {value!r}")
        return value
    if key == "slow_factor":
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"{key}: a positive number, not {value!r}")
        return float(value)
    if not isinstance(value, bool):
        raise ValueError(f"{key}: true or false, not {value!r}")
    return value


@dataclass
class RouterSpec:
    """What the lab file (or a site's design) says about one router."""

    name: str
    platform: str  # "cisco_iosxe" | "juniper_junos"
    model: str = ""  # e.g. "C8300-1N1S-6T", "mx204"; empty: the platform's default
    serial: str = ""
    interfaces: list[str] = field(default_factory=list)  # empty: the model's default set
    # Non-factory start: configuration text the router boots with (IOS: startup-config;
    # Junos: committed config in curly or set form). None = factory-fresh.
    startup_config: str | None = None
    input_buffer_bytes: int = DEFAULT_INPUT_BUFFER_BYTES
    # Platform-specific behaviour switches, e.g. for IOS-XE: initial_dialog (bool),
    # autoinstall_prompt (bool), enable_secret_prompt (bool), pnp_messages (bool). Both
    # platforms: lldp_timer, lldp_reinit (router seconds, see SimRouter.lldp_heard).
    options: dict[str, Any] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)


@dataclass(frozen=True)
class ManagementUser:
    name: str
    privilege: int = 1  # IOS privilege (15 lands in "#"); Junos: 15 for super-user class


@dataclass(frozen=True)
class Management:
    """What a router's committed configuration enables on the management network."""

    address: str  # the design address, e.g. "10.0.0.5" (no prefix length)
    vrf: str | None = None  # IOS VRF ("Mgmt-intf"), Junos routing-instance; None = global
    users: tuple[ManagementUser, ...] = ()
    ssh: bool = False
    netconf: bool = False  # Junos "system services netconf ssh"


@dataclass(frozen=True)
class LldpAdvert:
    """What a router sends in its LLDP frames out of one port: what its neighbour shows."""

    chassis_id: str  # the router's base MAC, "00:1e:7a:12:34:01"
    system_name: str
    system_description: str  # may hold several lines (IOS sends four)
    port_id: str
    port_id_subtype: str  # "Interface name" (IOS: Gi0/0/1) or "Locally assigned" (Junos)
    port_description: str
    system_capabilities: str = "B,R"  # IOS's letters: B bridge, R router
    enabled_capabilities: str = "R"
    ttl: int = 120  # hold time, seconds: 30 s between frames times a multiplier of 4


@dataclass(frozen=True)
class Port:
    """One end of a cable: a router and its own name for the interface."""

    router: SimRouter
    interface: str


class Cabling:
    """The cables between routers' ports (the lab file's ``links``), shared by every router
    of a lab so each can find who is at the far end of its ports. A router outside a lab has
    an empty one: every port on no cable."""

    def __init__(self) -> None:
        self._far: dict[tuple[str, str], Port] = {}

    def connect(self, a: Port, b: Port) -> None:
        self._far[(a.router.name, a.interface)] = b
        self._far[(b.router.name, b.interface)] = a

    def far_end(self, router: SimRouter, interface: str) -> Port | None:
        return self._far.get((router.name, interface))

    def ports(self, router: SimRouter) -> list[tuple[str, Port]]:
        """``router``'s cabled ports and their far ends."""
        return [(port, far) for (name, port), far in self._far.items() if name == router.name]


class SimRouter(abc.ABC):
    """A simulated router. Subclasses: ``iosxe.IosXeRouter``, ``junos.JunosRouter``.

    Life cycle: the lab builds it from a :class:`RouterSpec`, calls :meth:`attach` with the
    line's Console, then :meth:`power_on` (boot output, prompts). From then on the line calls
    :meth:`feed`. Whenever the committed configuration changes in a way that may change
    :meth:`management` (commit, write memory, rollback, reload), the router calls
    :meth:`notify_management_change` so the lab can open or close its management listener.
    """

    platform: ClassVar[str] = ""

    def __init__(self, spec: RouterSpec, clock: Clock):
        self.spec = spec
        self.name = spec.name
        self.clock = clock
        self.faults = spec.faults
        # router seconds of processing charged so far (every cost goes through cost()): the
        # part of a turn-up's time no driver can save, which bench/turnup.py's limit counts
        self.busy_seconds = 0.0
        self.mgmt_logins = 0  # SSH/NETCONF logins accepted on the management network
        self.input_buffer_bytes = spec.input_buffer_bytes
        self.console: Console | None = None
        # Set by the lab: called with the router after a change that may affect management().
        self.on_management_change: Callable[[SimRouter], None] | None = None
        self.cabling = Cabling()  # the lab replaces it with the lab-wide one
        # LLDP as it goes out of this router's ports: the first advertisement ``lldp_reinit``
        # seconds after LLDP starts, then one every ``lldp_timer`` seconds (IOS-XE and Junos
        # default to 2 and 30). 0, the lab's default: a neighbour hears it at once.
        self.lldp_timer = float(spec.options.get("lldp_timer", 0))
        self.lldp_reinit = float(spec.options.get("lldp_reinit", 2 if self.lldp_timer else 0))
        self.lldp_since: float | None = None  # when LLDP last started here (clock time)

    # -- the console -----------------------------------------------------------------------
    def attach(self, console: Console) -> None:
        self.console = console

    def detach(self) -> None:
        self.console = None

    def write(self, data: bytes | str) -> None:
        """Write to the console (no-op while detached or silent)."""
        if self.console is None or self.faults.silent:
            return
        self.console.write(data.encode() if isinstance(data, str) else data)

    @abc.abstractmethod
    def power_on(self) -> None:
        """Boot: print the boot output and land in the factory (or configured) first prompt."""

    @abc.abstractmethod
    def feed(self, data: bytes) -> tuple[int, float]:
        """The console session's input; same contract as :meth:`Session.feed`."""

    @abc.abstractmethod
    def state(self) -> str:
        """One word for ``turnup lab status``: booting, dialog, login, exec, config, …"""

    # -- the management plane ----------------------------------------------------------------
    @abc.abstractmethod
    def management(self) -> Management | None:
        """From the committed config: None unless an address and SSH are configured."""

    @abc.abstractmethod
    def check_login(self, username: str, password: str) -> bool:
        """True if the committed config has this user with this password/secret."""

    @abc.abstractmethod
    def open_cli(self, console: Console, username: str) -> Session:
        """A CLI session for an authenticated management user (SSH shell)."""

    def open_netconf(self, console: Console, username: str) -> Session:
        """A NETCONF-over-SSH session (the ``netconf`` subsystem). Junos only."""
        raise NotImplementedError(f"{self.platform} has no NETCONF")

    def addresses(self) -> list[str]:
        """Other addresses the router also answers management on (IOS: every interface that
        is not shut down); the lab listens on those its address map resolves."""
        return []

    def notify_management_change(self) -> None:
        """The configuration in force (or the router's state) changed."""
        running = self.is_up() and any(self.lldp_on(port) for port, _ in self.cabling.ports(self))
        if not running:
            self.lldp_since = None
        elif self.lldp_since is None:
            self.lldp_since = self.clock.now()
        if self.on_management_change is not None:
            self.on_management_change(self)

    # -- ports, cables and LLDP ------------------------------------------------------------
    @abc.abstractmethod
    def port_name(self, name: str) -> str | None:
        """The router's own name for the physical port ``name`` (IOS takes abbreviations such
        as ``Gi0/0/1``), or None when it has no such port."""

    @abc.abstractmethod
    def is_up(self) -> bool:
        """Booted (not off, booting or reloading): its ports pass traffic."""

    @abc.abstractmethod
    def port_enabled(self, port: str) -> bool:
        """``port`` is not shut down in the configuration in force."""

    @abc.abstractmethod
    def lldp_on(self, port: str) -> bool:
        """The configuration in force runs LLDP on ``port``."""

    @abc.abstractmethod
    def lldp_advert(self, port: str) -> LldpAdvert:
        """What this router says about itself in LLDP frames out of ``port``."""

    def far_end(self, port: str) -> Port | None:
        return self.cabling.far_end(self, port)

    def link_up(self, port: str) -> bool:
        """Whether the cable on ``port`` carries a signal: both routers booted and the port
        not shut down at either end. A port on no cable is always up: the lab simulates the
        rest of the world there."""
        far = self.far_end(port)
        if far is None:
            return True
        return (
            self.is_up()
            and self.port_enabled(port)
            and far.router.is_up()
            and far.router.port_enabled(far.interface)
        )

    def lldp_neighbours(self) -> list[tuple[str, LldpAdvert]]:
        """(local port, what the far end advertises) for each cabled port whose frames get
        through and have been heard: LLDP on at both ends, the link up, and an advertisement
        of the far end's sent since this router listens (:meth:`lldp_heard`)."""
        return [
            (port, far.router.lldp_advert(far.interface))
            for port, far in self.cabling.ports(self)
            if self.lldp_on(port)
            and far.router.lldp_on(far.interface)
            and self.link_up(port)
            and self.lldp_heard(far.router)
        ]

    def lldp_heard(self, far: SimRouter) -> bool:
        """Whether this router has heard ``far``'s LLDP by now: the first advertisement
        ``far`` sent since both run LLDP (``far``'s first comes ``lldp_reinit`` after its
        start, the next ones every ``lldp_timer``). A router whose LLDP started after the
        far end's first advertisement waits for the next one: up to ``lldp_timer``."""
        if not far.lldp_timer:
            return True
        if self.lldp_since is None or far.lldp_since is None:
            return False
        first = far.lldp_since + self.clock.scaled(far.lldp_reinit)
        period = self.clock.scaled(far.lldp_timer)
        heard = first
        if self.lldp_since > first:
            heard += math.ceil((self.lldp_since - first) / period) * period
        return self.clock.now() >= heard

    def cost(self, router_seconds: float) -> float:
        """A processing cost adjusted by the ``slow_factor`` fault (still router seconds)."""
        seconds = router_seconds * self.faults.slow_factor
        self.busy_seconds += seconds
        return seconds


# platform name -> module that defines the SimRouter subclass (imported on first use, so a
# lab with only Cisco routers never imports the Junos model and vice versa).
PLATFORM_MODULES = {
    "cisco_iosxe": "turnup.lab.iosxe",
    "juniper_junos": "turnup.lab.junos",
}
_CLASSES: dict[str, type[SimRouter]] = {}


def register(cls: type[SimRouter]) -> type[SimRouter]:
    """Class decorator: make ``cls`` the model for ``cls.platform``."""
    _CLASSES[cls.platform] = cls
    return cls


def router_class(platform: str) -> type[SimRouter]:
    if platform not in _CLASSES:
        module = PLATFORM_MODULES.get(platform)
        if module is None:
            raise ValueError(
                f"unknown platform {platform!r} (known: {', '.join(PLATFORM_MODULES)})"
            )
        importlib.import_module(module)
    return _CLASSES[platform]


def build_router(spec: RouterSpec, clock: Clock) -> SimRouter:
    return router_class(spec.platform)(spec, clock)
