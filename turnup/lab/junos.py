"""A simulated factory-fresh Junos router (console, CLI, XML API, management plane).

What it reproduces (see ``/work/shared/CONSOLE-FACTS.md`` section 2 and the README's lab
section): the "Amnesiac" console login (``root`` without a password), the FreeBSD shell
prompt ``root@:RE:0%``, the CLI (``root>``) and configuration mode (``root#`` under
``[edit …]`` lines) with a shared candidate, ``set``/``delete``/``edit``/``up``/``top``,
``load merge|override|replace|set terminal`` ended by Ctrl-D, ``show | compare``,
``commit check``, ``commit`` (refused while ``system root-authentication`` is missing),
``commit confirmed N`` with the automatic rollback and its broadcast, ``rollback N``,
``show configuration`` (curly and ``| display set``), ``show version``,
``show interfaces [terse]``; the XML API PyEZ drives over the console
(``xml-mode netconf need-trailer`` / ``junoscript netconf need-trailer``, see
:mod:`turnup.lab.netconf`); and, once the committed configuration says so, SSH CLI and NETCONF
sessions on the management plane sharing the same configuration state.

Time is router time (see :class:`turnup.lab.device.Clock`): a commit costs
``options["commit_seconds"]`` (default 2), a ``commit confirmed N`` rolls back after N
minutes — both scaled by the lab's ``time_scale``.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from turnup.lab import junos_config as jc
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

DEFAULT_VERSION = "21.4R3-S3.4"
KERNEL_BUILD = "20221220.6b2b5e5_builder_stable_12_214"
USER_BUILD = "20230126.040518_builder_junos_214_r3_s3"
FACTORY_CONFIG = """\
system {
    syslog {
        user * {
            any emergency;
        }
        file messages {
            any notice;
            authorization info;
        }
        file interactive-commands {
            interactive-commands any;
        }
    }
}
"""
DEFAULT_INTERFACES = [f"ge-0/0/{i}" for i in range(10)]
MGMT_INTERFACES = ("fxp0", "em0", "me0", "vme", "re0:mgmt-0")
COST_COMMAND = 0.005  # router seconds per CLI command
COST_SET = 0.01  # per configuration statement
COST_RPC = 0.01  # per XML RPC


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class CommitRecord:
    """One entry of the commit history (``rollback 0`` is the active configuration)."""

    tree: jc.Node
    when: dt.datetime
    user: str
    via: str
    comment: str = ""
    confirmed_minutes: int | None = None


@dataclass
class CommitOutcome:
    ok: bool
    problems: list[jc.CommitProblem]
    error: str = ""  # a lock conflict and the like


class ConfigLocked(Exception):
    def __init__(self, holder: str):
        super().__init__(f"configuration database locked by:\n  {holder}")
        self.holder = holder


@register
class JunosRouter(SimRouter):
    """The router: committed history, the shared candidate, locks, sessions, timers."""

    platform = "juniper_junos"

    def __init__(self, spec: RouterSpec, clock: Clock):
        super().__init__(spec, clock)
        options = spec.options or {}
        self.model = (spec.model or "vmx").lower()
        self.serial = spec.serial or "VM" + secrets.token_hex(5).upper()
        self.version = str(options.get("version", DEFAULT_VERSION))
        self.commit_seconds = float(options.get("commit_seconds", 2.0))
        self.boot_seconds = float(options.get("boot_seconds", 0.0))
        # Junos writes the automatic-rollback broadcast to every terminal, the console in XML
        # mode included (which breaks PyEZ's next read; CONSOLE-FACTS 2.3).
        self.broadcast_in_xml_mode = bool(options.get("broadcast_in_xml_mode", True))
        # The root shell prompt: "csh" (older releases, EX/SRX): "root@:RE:0% "; "sh" (releases
        # on FreeBSD 11+): "root@:~ # ". Stock netmiko's telnet login knows only "#"/">".
        self.shell = str(options.get("shell", "csh"))
        if self.shell not in ("csh", "sh"):
            raise ValueError(f"options.shell must be csh or sh, not {self.shell!r}")
        physical = list(spec.interfaces) or list(DEFAULT_INTERFACES)
        self.physical = physical + [n for n in ("fxp0", "lo0") if n not in physical]
        tree = jc.parse_curly(FACTORY_CONFIG)[0]
        if spec.startup_config:
            tree = parse_any(spec.startup_config)
        self.history: list[CommitRecord] = [CommitRecord(tree, _now(), "root", "factory")]
        self.candidate = tree.copy()  # the shared candidate ("configure")
        self.private: dict[object, jc.Node] = {}  # "configure private" candidates by session
        self.lock_owner: object | None = None
        self.lock_label = ""
        self.confirm_handle: Any = None
        self.confirm_deadline: float | None = None
        self.confirm_minutes = 0
        self.sessions: set[Any] = set()
        self.console_session: TerminalSession | None = None
        self.booted = False
        self.rollback_at_boot = False
        self.boot_time = _now()
        self._session_ids = 1000 + secrets.randbelow(30000)

    # -- configuration state ----------------------------------------------------------------
    @property
    def committed(self) -> jc.Node:
        return self.history[0].tree

    @property
    def hostname(self) -> str:
        system = self.committed.find("system")
        return (system.value("host-name") if system else None) or ""

    def next_session_id(self) -> int:
        self._session_ids += 1
        return self._session_ids

    def changed(self, owner: object | None = None) -> bool:
        """Uncommitted changes in ``owner``'s candidate (the shared one by default)."""
        return self.tree_of(owner) != self.committed

    def tree_of(self, owner: object | None) -> jc.Node:
        """The candidate ``owner`` edits: its private copy, or the shared candidate."""
        return self.private.get(owner, self.candidate) if owner is not None else self.candidate

    def set_tree(self, owner: object | None, tree: jc.Node) -> None:
        if owner is not None and owner in self.private:
            self.private[owner] = tree
        else:
            self.candidate = tree

    def open_private(self, owner: object) -> str | None:
        """``configure private``: refused while the shared candidate has changes."""
        if self.changed():
            return "shared configuration database modified"
        self.private.setdefault(owner, self.committed.copy())
        return None

    def close_private(self, owner: object) -> None:
        self.private.pop(owner, None)

    def check_lock(self, owner: object) -> None:
        if self.lock_owner is not None and self.lock_owner is not owner:
            raise ConfigLocked(self.lock_label)

    def lock(self, owner: object, label: str) -> None:
        """``configure exclusive`` / ``<lock-configuration/>``."""
        if self.lock_owner is owner:
            return
        self.check_lock(owner)
        if self.changed():
            raise ValueError("configuration database modified")
        self.lock_owner = owner
        self.lock_label = label

    def unlock(self, owner: object, *, discard: bool = True) -> bool:
        """Release the lock; changes the holder did not commit are discarded."""
        if self.lock_owner is not owner:
            return False
        self.lock_owner = None
        self.lock_label = ""
        if discard and self.changed():
            self.candidate = self.committed.copy()
        return True

    def session_gone(self, session: object) -> None:
        self.sessions.discard(session)
        self.unlock(session)
        self.close_private(session)

    def commit(
        self,
        *,
        owner: object,
        user: str,
        via: str,
        check_only: bool = False,
        confirm_minutes: int | None = None,
        comment: str = "",
    ) -> CommitOutcome:
        try:
            self.check_lock(owner)
        except ConfigLocked as err:
            return CommitOutcome(False, [], str(err))
        tree = self.tree_of(owner)
        problems = jc.check(tree)
        if problems or check_only:  # "commit check" does not confirm a pending commit
            return CommitOutcome(not problems, problems)
        self._cancel_confirm()  # any commit confirms a pending "commit confirmed"
        # Junos records every commit, even one without changes (that is how one confirms).
        shared_clean = not self.changed()
        record = CommitRecord(tree.copy(), _now(), user, via, comment, confirm_minutes)
        self.history.insert(0, record)
        del self.history[50:]
        if owner in self.private:  # a private commit: its copy and a clean shared one follow
            self.private[owner] = tree.copy()
            if shared_clean:
                self.candidate = tree.copy()
        if confirm_minutes:
            self.confirm_minutes = confirm_minutes
            self.confirm_deadline = self.clock.now() + self.clock.scaled(confirm_minutes * 60)
            self.confirm_handle = self.clock.call_later(confirm_minutes * 60, self._confirm_expired)
        self.notify_management_change()
        if self.faults.reboot_after_save:
            self.clock.call_later(self.cost(self.commit_seconds) + 0.5, self.reboot)
        return CommitOutcome(True, [])

    def confirm_pending_minutes(self) -> int | None:
        if self.confirm_deadline is None:
            return None
        left = (self.confirm_deadline - self.clock.now()) / max(self.clock.time_scale, 1e-9)
        return max(1, int(left // 60) + (1 if left % 60 else 0))

    def _cancel_confirm(self) -> None:
        if self.confirm_handle is not None:
            self.confirm_handle.cancel()
        self.confirm_handle = None
        self.confirm_deadline = None

    def _confirm_expired(self) -> None:
        """``commit confirmed`` not confirmed in time: roll back to the previous commit."""
        self.confirm_handle = None
        self.confirm_deadline = None
        if len(self.history) < 2:
            return
        host = self.hostname
        previous = self.history[1].tree.copy()
        self.history.insert(0, CommitRecord(previous, _now(), "root", "other", "rollback"))
        del self.history[50:]
        self.candidate = previous.copy()
        self.notify_management_change()
        message = (
            f"\n\nBroadcast Message from root@{host}\n"
            f"        (no tty) at {_now().strftime('%Y-%m-%d %H:%M:%S UTC')}...\n\n"
            "Commit was not confirmed; automatic rollback complete.\n\n"
        )
        for session in list(self.sessions):
            if isinstance(session, TerminalSession):
                if session.mode == "xml" and not self.broadcast_in_xml_mode:
                    continue
                session.out(message)

    def rollback_candidate(self, index: int, owner: object | None = None) -> str | None:
        if not 0 <= index < len(self.history):
            return f"rollback {index} does not exist" if index < 50 else "invalid rollback"
        self.set_tree(owner, self.history[index].tree.copy())
        return None

    def load(
        self, owner: object, text: str, *, fmt: str, action: str, base=([], [])
    ) -> list[jc.LoadError]:
        """Load text into the candidate (``fmt`` "set" or "text"; action merge/replace/
        override/update). Good statements are applied even when others fail."""
        self.check_lock(owner)
        if fmt == "set":
            errors = jc.parse_set_lines(text, self.tree_of(owner), base=base)
        else:
            loaded, errors, replaced = jc.parse_curly(text)
            if action in ("override", "update") and errors:
                return errors
            action = "override" if action == "update" else action
            self.set_tree(owner, jc.apply_load(self.tree_of(owner), loaded, action, replaced))
        return errors

    # -- SimRouter -------------------------------------------------------------------------
    def power_on(self) -> None:
        """Boot (also a power cycle from the lab's ``/reload``: sessions and locks are lost,
        the candidate falls back to the committed config, a pending ``commit confirmed`` rolls
        back at boot)."""
        self._shutdown()
        self.write(
            f"\r\nJunos OS {self.version} booting ...\r\n"
            "Loading /boot/loader\r\nConsoles: serial port\r\n"
        )
        if self.boot_seconds > 0:
            self.clock.call_later(self.cost(self.boot_seconds), self._booted)
        else:
            self._booted()

    def _shutdown(self) -> None:
        was_up = self.booted
        self.booted = False
        for session in list(self.sessions):
            if session is not self.console_session:
                session.hangup()
        self.sessions.clear()
        self.console_session = None
        self.lock_owner = None
        self.candidate = self.committed.copy()
        self.private.clear()
        if self.confirm_handle is not None:
            self.confirm_handle.cancel()
            self.confirm_handle = None
            self.rollback_at_boot = True
        if was_up:
            self.notify_management_change()

    def _booted(self) -> None:
        self.booted = True
        self.boot_time = _now()
        self.write("Starting local daemons:.\r\nmgd: commit complete\r\n")
        if self.rollback_at_boot:
            self.rollback_at_boot = False
            self._confirm_expired()
        self.console_session = TerminalSession(self, self.write, console=True)
        self.console_session.start_login()
        self.notify_management_change()

    def zeroize(self) -> None:
        """``request system zeroize``: back to the factory configuration, then reboot."""
        factory = jc.parse_curly(FACTORY_CONFIG)[0]
        self.history = [CommitRecord(factory, _now(), "root", "factory")]
        if self.confirm_handle is not None:
            self.confirm_handle.cancel()
        self.confirm_handle = self.confirm_deadline = None
        self.rollback_at_boot = False
        self.reboot()

    def reboot(self) -> None:
        host = self.hostname or "Amnesiac"
        self.write(
            f"\r\n*** FINAL System shutdown message from root@{host} ***\r\n\r\n"
            "System going down IMMEDIATELY\r\n\r\n"
        )
        self._shutdown()
        self.clock.call_later(1.0, self.power_on)

    def feed(self, data: bytes) -> tuple[int, float]:
        if self.faults.silent or not data:
            return len(data), 0.0
        if not self.booted or self.console_session is None:
            return len(data), 0.0  # typed into a booting box: lost
        return self.console_session.feed(data)

    def state(self) -> str:
        if not self.booted:
            return "booting"
        session = self.console_session
        return session.mode if session is not None else "login"

    # -- management plane ------------------------------------------------------------------
    def management(self) -> Management | None:
        if not self.booted:
            return None
        tree = self.committed
        services = tree.find("system services")
        ssh = services is not None and services.find("ssh") is not None
        netconf = services is not None and services.find("netconf ssh") is not None
        if not (ssh or netconf):
            return None
        address, vrf = self._mgmt_address(tree)
        if address is None:
            return None
        users = [ManagementUser(name, privilege) for name, privilege in self._users(tree)]
        return Management(address, vrf, tuple(users), ssh=ssh, netconf=netconf)

    def _mgmt_address(self, tree: jc.Node) -> tuple[str | None, str | None]:
        interfaces = tree.find("interfaces")
        if interfaces is None:
            return None, None
        instance = tree.find("system management-instance") is not None
        mgmt_ri = tree.get(("routing-instances",), ("mgmt_junos",))
        candidates = list(MGMT_INTERFACES)
        if mgmt_ri is not None:
            for step in mgmt_ri.children:
                if step[0] == "interface" and len(step) > 1:
                    candidates.append(step[1].split(".")[0])
        for name in candidates:
            node = interfaces.children.get((name,))
            if node is None or node.find("disable") is not None:
                continue
            for unit_step, unit in node.children.items():
                if unit_step[0] != "unit":
                    continue
                inet = unit.get(("family", "inet"))
                addresses = inet.values("address") if inet is not None else []
                if addresses:
                    vrf = "mgmt_junos" if instance or name not in MGMT_INTERFACES else None
                    return addresses[0].split("/")[0], vrf
        return None, None

    def _users(self, tree: jc.Node) -> list[tuple[str, int]]:
        users = []
        if self._hash_for(tree, "root"):
            users.append(("root", 15))
        login = tree.find("system login")
        for step, node in login.children.items() if login else []:
            if step[0] == "user" and len(step) > 1:
                privilege = 15 if node.value("class") == "super-user" else 1
                users.append((step[1], privilege))
        return users

    def _hash_for(self, tree: jc.Node, username: str) -> str | None:
        if username == "root":
            auth = tree.find("system root-authentication")
        else:
            user = tree.get(("system",), ("login",), ("user", username))
            auth = user.find("authentication") if user is not None else None
        return auth.value("encrypted-password") if auth is not None else None

    def needs_password(self, username: str) -> bool:
        """Amnesiac root logs in without a password; everyone else is asked."""
        return not (username == "root" and self._hash_for(self.committed, "root") is None)

    def user_class(self, username: str) -> str:
        if username == "root":
            return "super-user"
        user = self.committed.get(("system",), ("login",), ("user", username))
        return (user.value("class") if user is not None else None) or "unknown"

    def check_login(self, username: str, password: str) -> bool:
        hashed = self._hash_for(self.committed, username)
        if hashed is None:
            return False
        if username == "root":
            ssh = self.committed.find("system services ssh")
            if ssh is not None and ssh.value("root-login") in ("deny", "deny-password"):
                return False
        return jc.verify_password(password, hashed)

    def check_console_login(self, username: str, password: str) -> bool:
        if not self.needs_password(username):
            return True
        hashed = self._hash_for(self.committed, username)
        return hashed is not None and jc.verify_password(password, hashed)

    def open_cli(self, console: Console, username: str) -> TerminalSession:
        session = TerminalSession(
            self, console.write, console=False, hangup=console.hangup, user=username
        )
        self.sessions.add(session)
        session.start_logged_in()
        return session

    def open_netconf(self, console: Console, username: str):
        from turnup.lab.netconf import NetconfSession

        session = NetconfSession(self, console, username)
        self.sessions.add(session)
        return session

    # -- operational data ------------------------------------------------------------------
    def interface_names(self) -> list[str]:
        names = list(self.physical)
        tree = self.committed
        count = tree.find("chassis aggregated-devices ethernet")
        if count is not None and (value := count.value("device-count")):
            names += [f"ae{i}" for i in range(int(value))]
        interfaces = tree.find("interfaces")
        if interfaces is not None and ("irb",) in interfaces.children:
            names.append("irb")
        return names

    def snmp_ifindex(self, name: str) -> int:
        """The SNMP ifIndex ``show interfaces`` gives ``name`` (and LLDP sends as port id)."""
        return 500 + self.interface_names().index(name)

    # -- ports and LLDP --------------------------------------------------------------------
    def port_name(self, name: str) -> str | None:
        return name if name in self.physical and name != "lo0" else None

    def is_up(self) -> bool:
        return self.booted

    def port_enabled(self, port: str) -> bool:
        return _admin(self, port)

    def lldp_on(self, port: str) -> bool:
        """``protocols lldp interface all`` or ``… interface <port>``, neither disabled."""
        lldp = self.committed.find("protocols lldp")
        if lldp is None or lldp.find("disable") is not None:
            return False
        node = lldp.get(("interface", port))  # a port's own statement wins over "all"
        if node is None:
            node = lldp.get(("interface", "all"))
        return node is not None and node.find("disable") is None

    def base_mac(self) -> str:
        """A MAC of Juniper's that stays the same for a router name."""
        low = divmod(zlib.crc32(self.name.encode()) % 65536, 256)
        return ":".join(f"{b:02x}" for b in (0x2C, 0x6B, 0xF5, *low, 0xC0))

    def lldp_advert(self, port: str) -> LldpAdvert:
        """As Junos sends it: the host-name without domain, the port's SNMP ifIndex as a
        locally assigned port id — or its name with ``protocols lldp port-id-subtype
        interface-name`` — and the port's description (else its name)."""
        node = self.committed.get(("interfaces",), (port,))
        description = node.value("description") if node is not None else None
        lldp = self.committed.find("protocols lldp")
        by_name = lldp is not None and lldp.value("port-id-subtype") == "interface-name"
        return LldpAdvert(
            chassis_id=self.base_mac(),
            system_name=self.hostname,
            system_description=(
                f"Juniper Networks, Inc. {self.model} internet router, kernel JUNOS "
                f"{self.version}, Build date: 2023-01-26 04:05:18 UTC Copyright (c) 1996-2023 "
                "Juniper Networks, Inc."
            ),
            port_id=port if by_name else str(self.snmp_ifindex(port)),
            port_id_subtype="Interface name" if by_name else "Locally assigned",
            port_description=description or port,
        )

    def lldp_rows(self) -> list[tuple[str, LldpAdvert]]:
        """The LLDP neighbours in port order; none while LLDP is not configured."""
        order = self.interface_names()
        return sorted(self.lldp_neighbours(), key=lambda row: order.index(row[0]))


def parse_any(text: str) -> jc.Node:
    """A startup configuration in curly or set form."""
    if re.search(r"^\s*set\s", text, re.M):
        root = jc.Node()
        jc.parse_set_lines(text, root)
        return root
    return jc.parse_curly(text)[0]


# ------------------------------------------------------------------------------------------
# terminal sessions: login, shell, CLI, configuration mode, load terminal, XML mode
# ------------------------------------------------------------------------------------------
class TerminalSession:
    """One terminal on the router: the console, or an SSH CLI session."""

    def __init__(
        self,
        router: JunosRouter,
        write: Callable[[bytes], None],
        *,
        console: bool,
        hangup: Callable[[], None] | None = None,
        user: str = "",
    ):
        self.router = router
        self._write = write
        self._hangup = hangup
        self.is_console = console
        self.tty = "ttyu0" if console else "pts/0"
        self.user = user
        self.mode = "login"
        self.line = ""
        self.last_cr = False
        self.edit_steps: list[jc.Step] = []
        self.edit_kinds: list[str] = []
        self.from_shell = False
        self.exclusive = False
        self.screen_length = int(router.spec.options.get("screen_length", 24))
        self.more: list[str] | None = None  # output waiting behind ---(more)---
        self.more_total = 0
        self.pending: Callable[[str], float] | None = None  # a question waiting for an answer
        self.load_action = ""
        self.load_lines: list[str] = []
        self.xml: Any = None
        self.started = _now()

    # -- output ---------------------------------------------------------------------------
    def out(self, text: str) -> None:
        self._write(text.replace("\r\n", "\n").replace("\n", "\r\n").encode())

    def hangup(self) -> None:
        if self._hangup is not None:
            self._hangup()

    def close(self) -> None:
        self.router.session_gone(self)

    @property
    def host(self) -> str:
        return self.router.hostname

    def prompt(self) -> str:
        host = self.host
        if self.mode == "shell":
            if self.router.shell == "sh":
                return f"{self.user}@{host}:~ {'#' if self.user == 'root' else '$'} "
            return f"{self.user}@{host}:RE:0% "
        mark = "#" if self.mode == "config" else ">"
        return f"{self.user}@{host}{mark} " if host else f"{self.user}{mark} "

    def edit_header(self) -> str:
        where = " ".join(jc.step_text(s) for s in self.edit_steps)
        return f"[edit {where}]" if where else "[edit]"

    def show_prompt(self) -> None:
        if self.mode == "config":
            minutes = self.router.confirm_pending_minutes()
            note = (
                f"# commit confirmed will be rolled back in {minutes} minutes\n" if minutes else ""
            )
            self.out(f"\n{note}{self.edit_header()}\n{self.prompt()}")
        elif self.mode == "login":
            self.out(f"\n{self.host or 'Amnesiac'} ({self.tty})\n\nlogin: ")
        else:
            self.out(self.prompt())

    # -- session start ---------------------------------------------------------------------
    def start_login(self) -> None:
        self.mode = "login"
        self.user = ""
        self.show_prompt()

    def start_logged_in(self) -> None:
        self.out(f"--- JUNOS {self.router.version} Kernel 64-bit  JNPR-12.1-{KERNEL_BUILD}\n")
        if self.user == "root":
            self.mode = "shell"
        else:
            self.mode = "cli"
        self.router.sessions.add(self)
        self.show_prompt()

    def logout(self) -> None:
        self.router.unlock(self)
        self.mode = "login"
        if self.is_console:
            self.router.sessions.discard(self)
            self.start_login()
        else:
            self.router.session_gone(self)
            self.hangup()

    # -- input -----------------------------------------------------------------------------
    def feed(self, data: bytes) -> tuple[int, float]:
        if self.mode == "xml":
            return self.xml.feed(data)
        for index, byte in enumerate(data):
            if self.last_cr and byte in (0x0A, 0x00):
                self.last_cr = False
                continue
            self.last_cr = byte == 0x0D
            if self.more is not None:
                self.more_key(byte)
                continue
            if byte in (0x0D, 0x0A):
                line, self.line = self.line, ""
                busy = self.enter(line)
                if self.mode == "xml" and index + 1 < len(data):
                    return index + 1, busy
                if busy > 0:
                    return index + 1, self.router.cost(busy)
                continue
            self.key(byte)
        return len(data), 0.0

    # -- paging ----------------------------------------------------------------------------
    def page(self, text: str, filters: list[str]) -> None:
        """Command output then the prompt, paged past ``screen-length`` lines as Junos does
        (``| no-more`` and ``set cli screen-length 0`` turn it off)."""
        no_more = any(f.split()[0].startswith("n") for f in filters if f.split())
        lines = text.splitlines()
        if self.screen_length <= 1 or no_more or len(lines) < self.screen_length:
            self.out(text)
            self.show_prompt()
            return
        self.more, self.more_total = lines, len(lines)
        self._more_page(self.screen_length - 1)

    def _more_page(self, count: int) -> None:
        assert self.more is not None
        chunk, self.more = self.more[:count], self.more[count:]
        if chunk:
            self.out("\n".join(chunk) + "\n")
        if self.more:
            shown = 100 * (self.more_total - len(self.more)) // self.more_total
            self.out(f"---(more {shown}%)---")
        else:
            self.more = None
            self.show_prompt()

    def more_key(self, byte: int) -> None:
        self.out("\r" + " " * 20 + "\r")
        if byte in (ord("q"), ord("Q"), 0x03):
            self.more = None
            self.show_prompt()
        elif byte in (0x0D, 0x0A):
            self._more_page(1)
        elif byte in (ord(" "), ord("f")):
            self._more_page(self.screen_length - 1)
        else:
            self._more_page(0)

    def echoing(self) -> bool:
        return self.mode not in ("password", "secret")

    def key(self, byte: int) -> None:
        if byte in (0x08, 0x7F):
            if self.line:
                self.line = self.line[:-1]
                if self.echoing():
                    self.out("\b \b")
        elif byte == 0x15:  # Ctrl-U
            if self.echoing():
                self.out("\b \b" * len(self.line))
            self.line = ""
        elif byte == 0x03:  # Ctrl-C
            self.line = ""
            if self.mode == "load":
                self.mode = "config"
                self.out("\nload aborted\n")
            else:
                self.out("^C\n")
            self.pending = None
            if self.mode in ("password", "secret"):
                self.mode = "login" if self.mode == "password" else "config"
            self.show_prompt()
        elif byte == 0x04:  # Ctrl-D
            if self.mode == "load" and not self.line:
                self.out("\n")
                self.finish_load()
            elif self.mode == "shell" and not self.line:
                self.out("\n")
                self.logout()
        elif byte == 0x09:
            self.line += " "
            self.out(" ")
        elif byte >= 0x20:
            char = chr(byte) if byte < 0x80 else bytes([byte]).decode("latin-1")
            self.line += char
            if self.echoing():
                self.out(char)

    def enter(self, line: str) -> float:
        self.out("\n")  # the echo of RETURN (also after a password, which is not echoed)
        if self.pending is not None:
            answer, self.pending = self.pending, None
            return answer(line)
        handler = {
            "login": self.on_username,
            "password": self.on_password,
            "shell": self.on_shell,
            "cli": self.on_cli,
            "config": self.on_config,
            "load": self.on_load_line,
        }.get(self.mode)
        return handler(line) if handler else 0.0

    # -- login ---------------------------------------------------------------------------
    def on_username(self, line: str) -> float:
        name = line.strip()
        if not name:
            self.out("login: ")
            return 0.0
        self.user = name
        if not self.router.needs_password(name):
            self.logged_in()
            return COST_COMMAND
        self.mode = "password"
        self.out("Password:")
        return 0.0

    def on_password(self, line: str) -> float:
        if self.router.check_console_login(self.user, line) and (
            self.user == "root" or self.router.user_class(self.user) != "unknown"
        ):
            self.logged_in()
            return COST_COMMAND
        self.out("Login incorrect\nlogin: ")
        self.mode = "login"
        self.user = ""
        return 0.5

    def logged_in(self) -> None:
        self.router.sessions.add(self)
        self.out(f"\n--- JUNOS {self.router.version} Kernel 64-bit  JNPR-12.1-{KERNEL_BUILD}\n")
        self.mode = "shell" if self.user == "root" else "cli"
        self.show_prompt()

    # -- shell ---------------------------------------------------------------------------
    def on_shell(self, line: str) -> float:
        words = line.split()
        if not words:
            self.show_prompt()
            return 0.0
        cmd = words[0]
        if cmd == "cli":
            self.mode = "cli"
            self.from_shell = True
            self.show_prompt()
        elif cmd in ("exit", "logout"):
            self.logout()
        elif cmd == "xml-mode" and "netconf" in words[1:]:
            self.start_xml(need_trailer="need-trailer" in words, previous="shell")
        elif cmd in ("pwd",):
            self.out("/var/root\n")
            self.show_prompt()
        elif cmd in ("whoami",):
            self.out(f"{self.user}\n")
            self.show_prompt()
        elif cmd == "uname":
            self.out("JUNOS\n")
            self.show_prompt()
        else:
            self.out(f"{cmd}: Command not found.\n")
            self.show_prompt()
        return COST_COMMAND

    # -- XML mode --------------------------------------------------------------------------
    def start_xml(self, *, need_trailer: bool, previous: str) -> None:
        from turnup.lab.netconf import ConsoleXmlMode

        self.xml = ConsoleXmlMode(self, need_trailer=need_trailer, previous=previous)
        self.mode = "xml"
        self.xml.start()

    def end_xml(self, previous: str) -> None:
        self.router.unlock(self)
        self.router.close_private(self)
        self.xml = None
        self.mode = previous
        self.show_prompt()

    # -- operational CLI -------------------------------------------------------------------
    def on_cli(self, line: str) -> float:
        command, filters = split_pipes(line)
        words = jc.split_words(command)
        if not words:
            self.show_prompt()
            return 0.0
        try:
            path, args = match_command(OP_COMMANDS, words)
        except CommandError as err:
            self.caret(line, err)
            self.show_prompt()
            return COST_COMMAND
        name = " ".join(path)
        if name == "configure":
            return self.enter_configure(args)
        if name in ("exit", "quit", "logout"):
            if self.from_shell:
                self.from_shell = False
                self.mode = "shell"
                self.out("\n")
                self.show_prompt()
            else:
                self.logout()
            return COST_COMMAND
        if name == "start shell":
            self.mode = "shell"
            self.from_shell = True
            self.show_prompt()
            return COST_COMMAND
        if name == "junoscript" or name == "xml-mode":
            self.start_xml(need_trailer="need-trailer" in args, previous="cli")
            return COST_COMMAND
        if name == "request system reboot":
            return self.ask("Reboot the system ? [yes,no] (no) ", self._reboot_answer)
        if name == "request system zeroize":
            return self.ask(
                "warning: System will be rebooted and may not boot without configuration\n"
                "Erase all data, including configuration and log files? [yes,no] (no) ",
                self._zeroize_answer,
            )
        try:
            text = self.router_op(path, args, filters)
        except CommandError as err:
            self.caret(line, err)
            self.show_prompt()
            return COST_COMMAND
        self.page(apply_filters(text, filters, self.router), filters)
        return COST_COMMAND + len(text) * 1e-6

    def _reboot_answer(self, answer: str) -> float:
        if answer.strip().lower() in ("yes", "y"):
            self.out(f"\nShutdown NOW!\n[pid {secrets.randbelow(90000) + 1000}]\n")
            self.router.clock.call_later(0.5, self.router.reboot)
            return 1.0
        self.show_prompt()
        return 0.0

    def _zeroize_answer(self, answer: str) -> float:
        if answer.strip().lower() in ("yes", "y"):
            self.out("warning: zeroizing re0\n")
            self.router.clock.call_later(0.5, self.router.zeroize)
            return 1.0
        self.show_prompt()
        return 0.0

    def router_op(
        self, path: tuple[str, ...], args: list[str], filters: list[str] | None = None
    ) -> str:
        return op_command(self.router, path, args, session=self, filters=filters)

    def caret(self, line: str, err: CommandError) -> None:
        words = jc.tokenize(line.split("|")[0])
        if err.index < len(words):
            col = words[err.index].col
        else:
            col = len(line.rstrip()) + 1
        self.out(" " * (len(self.prompt()) + col) + "^\n" + err.message + "\n")

    def ask(self, question: str, answer: Callable[[str], float]) -> float:
        self.out(question)
        self.pending = answer
        return COST_COMMAND

    # -- configuration mode ----------------------------------------------------------------
    def enter_configure(self, args: list[str]) -> float:
        router = self.router
        if router.lock_owner is not None and router.lock_owner is not self:
            self.out(
                f"error: configuration database locked by:\n  {router.lock_label}\n"
                if args[:1] == ["exclusive"]
                else f"Users currently editing the configuration:\n  {router.lock_label}\n"
                "error: configuration database locked\n"
            )
            self.show_prompt()
            return COST_COMMAND
        if args[:1] == ["private"]:
            error = router.open_private(self)
            if error:
                self.out(f"error: {error}\n")
                self.show_prompt()
                return COST_COMMAND
            self.out("warning: uncommitted changes will be discarded on exit\n")
        self.out("Entering configuration mode\n")
        if args[:1] == ["exclusive"]:
            if router.changed():
                self.out("error: configuration database modified\n")
                self.show_prompt()
                return COST_COMMAND
            router.lock(self, self.label())
            self.exclusive = True
        elif router.changed():
            self.out("The configuration has been changed but not committed\n")
        self.mode = "config"
        self.edit_steps, self.edit_kinds = [], []
        self.show_prompt()
        return COST_COMMAND

    def label(self) -> str:
        pid = 4000 + id(self) % 1000
        return f"{self.user} terminal {self.tty} (pid {pid}) on since {_stamp(self.started)}"

    def leave_configure(self, *, message: bool = True) -> None:
        if self.exclusive:
            self.router.unlock(self)
            self.exclusive = False
        self.router.close_private(self)
        self.mode = "cli"
        self.edit_steps, self.edit_kinds = [], []
        if message:
            self.out("Exiting configuration mode\n\n")
        self.show_prompt()

    def on_config(self, line: str) -> float:
        command, filters = split_pipes(line)
        words = jc.split_words(command)
        if not words:
            self.show_prompt()
            return 0.0
        try:
            verb = match_word(CONFIG_COMMANDS, words[0], 0)
        except CommandError as err:
            self.caret(line, err)
            self.show_prompt()
            return COST_COMMAND
        args = words[1:]
        handler = getattr(self, "cfg_" + verb.replace("-", "_"))
        return handler(args, filters, line)

    def _statement_error(self, line: str, err: jc.ConfigSyntaxError, offset: int = 1) -> None:
        self.caret(line, CommandError(err.message, err.index + offset))

    def cfg_set(self, args: list[str], filters: list[str], line: str) -> float:
        router = self.router
        if args and args[-1] == "plain-text-password":
            return self.ask_password(args, line)
        try:
            router.check_lock(self)
            for expanded in jc.expand_brackets(args):
                jc.apply_statement(
                    router.tree_of(self), "set", expanded, self.edit_steps, self.edit_kinds
                )
        except jc.ConfigSyntaxError as err:
            self._statement_error(line, err)
        except ConfigLocked as err:
            self.out(f"error: {err}\n")
        self.show_prompt()
        return COST_SET

    def ask_password(self, args: list[str], line: str) -> float:
        words = args[:-1] + ["encrypted-password", "$6$x$y"]
        try:
            jc.parse_words(
                words,
                jc.contexts(self.edit_steps, self.edit_kinds),
                jc.parent_kind_of(self.edit_kinds),
            )
        except jc.ConfigSyntaxError as err:
            self._statement_error(line, err)
            self.show_prompt()
            return COST_SET
        first: list[str] = []

        def retype(answer: str) -> float:
            self.mode = "config"
            if answer != first[0]:
                self.out("error: Passwords do not match\n")
            elif len(answer) < 6:
                self.out("error: minimum password length is 6\n")
            else:
                final = args[:-1] + ["encrypted-password", jc.hash_password(answer)]
                jc.apply_statement(
                    self.router.tree_of(self), "set", final, self.edit_steps, self.edit_kinds
                )
            self.show_prompt()
            return 0.05

        def new(answer: str) -> float:
            first.append(answer)
            self.out("Retype new password:")
            self.pending = retype
            return 0.0

        self.mode = "secret"
        self.out("New password:")
        self.pending = new
        return 0.0

    def cfg_delete(self, args: list[str], filters: list[str], line: str) -> float:
        router = self.router
        if not args:
            return self.ask("Delete everything under this level? [yes,no] (no) ", self._delete_all)
        try:
            router.check_lock(self)
            found = jc.apply_statement(
                router.tree_of(self), "delete", args, self.edit_steps, self.edit_kinds
            )
            if not found:
                self.out("warning: statement not found\n")
        except jc.ConfigSyntaxError as err:
            self._statement_error(line, err)
        except ConfigLocked as err:
            self.out(f"error: {err}\n")
        self.show_prompt()
        return COST_SET

    def _delete_all(self, answer: str) -> float:
        if answer.strip().lower() in ("yes", "y"):
            node = self.router.tree_of(self).get(*self.edit_steps)
            if node is not None:
                node.children.clear()
        self.show_prompt()
        return COST_SET

    def cfg_edit(self, args: list[str], filters: list[str], line: str) -> float:
        try:
            (statement,) = jc.parse_words(
                args,
                jc.contexts(self.edit_steps, self.edit_kinds),
                jc.parent_kind_of(self.edit_kinds),
            )[-1:]
            if not statement.steps:
                raise jc.ConfigSyntaxError("missing argument.", 0, "")
            self.edit_steps = self.edit_steps + statement.steps
            self.edit_kinds = self.edit_kinds + statement.kinds
        except jc.ConfigSyntaxError as err:
            self._statement_error(line, err)
        self.show_prompt()
        return COST_COMMAND

    def cfg_top(self, args: list[str], filters: list[str], line: str) -> float:
        self.edit_steps, self.edit_kinds = [], []
        if args:
            return self.on_config(" ".join(jc.quote(a) for a in args))
        self.show_prompt()
        return COST_COMMAND

    def cfg_up(self, args: list[str], filters: list[str], line: str) -> float:
        count = int(args[0]) if args and args[0].isdigit() else 1
        if not self.edit_steps:
            self.out("warning: already at top of configuration\n")
        self.edit_steps = self.edit_steps[:-count] if count < len(self.edit_steps) else []
        self.edit_kinds = self.edit_kinds[: len(self.edit_steps)]
        self.show_prompt()
        return COST_COMMAND

    def cfg_exit(self, args: list[str], filters: list[str], line: str) -> float:
        if self.edit_steps and args[:1] != ["configuration-mode"]:
            self.edit_steps, self.edit_kinds = self.edit_steps[:-1], self.edit_kinds[:-1]
            self.show_prompt()
            return COST_COMMAND
        if self.router.changed(self):
            self.out("The configuration has been changed but not committed\n")
            if self.exclusive:
                self.out("warning: uncommitted changes will be discarded on exit\n")
            return self.ask("Exit with uncommitted changes? [yes,no] (yes) ", self._exit_answer)
        self.leave_configure()
        return COST_COMMAND

    cfg_quit = cfg_exit

    def _exit_answer(self, answer: str) -> float:
        if answer.strip().lower() in ("", "yes", "y"):
            self.leave_configure()
        else:
            self.show_prompt()
        return COST_COMMAND

    def cfg_show(self, args: list[str], filters: list[str], line: str) -> float:
        router = self.router
        if "compare" in [f.split()[0] for f in filters if f.split()]:
            rb = 0
            for f in filters:
                parts = f.split()
                if parts and parts[0] == "compare" and len(parts) >= 3 and parts[1] == "rollback":
                    rb = int(parts[2]) if parts[2].isdigit() else 0
            if rb >= len(router.history):
                self.out(f"error: rollback {rb} does not exist\n")
                self.show_prompt()
                return COST_COMMAND
            old = router.history[rb].tree.get(*self.edit_steps) or jc.Node()
            new = router.tree_of(self).get(*self.edit_steps) or jc.Node()
            diff = jc.render_diff(old, new, list(self.edit_steps))
            rest = [f for f in filters if not f.split() or f.split()[0] != "compare"]
            self.page(apply_filters("\n".join(diff) + ("\n" if diff else ""), rest, router), rest)
            return COST_COMMAND
        base = router.tree_of(self).get(*self.edit_steps)
        prefix = list(self.edit_steps)
        try:
            node = base
            if args and base is not None:
                statements = jc.parse_words(
                    args,
                    jc.contexts(self.edit_steps, self.edit_kinds),
                    jc.parent_kind_of(self.edit_kinds),
                    delete=True,
                )
                node = base.get(*statements[-1].steps)
                prefix += statements[-1].steps
        except jc.ConfigSyntaxError as err:
            self._statement_error(line, err)
            self.show_prompt()
            return COST_COMMAND
        text = render_config(node, filters, set_prefix=prefix, top=not prefix)
        rest = [f for f in filters if not f.startswith("display")]
        self.page(apply_filters(text, rest, router), rest)
        return COST_COMMAND + len(text) * 1e-6

    def cfg_commit(self, args: list[str], filters: list[str], line: str) -> float:
        router = self.router
        check = bool(args) and args[0] == "check"
        confirm = None
        comment = ""
        and_quit = False
        i = 0
        while i < len(args):
            word = args[i]
            if word == "confirmed":
                confirm = 10
                if i + 1 < len(args) and args[i + 1].isdigit():
                    confirm = int(args[i + 1])
                    i += 1
                if not 1 <= confirm <= 65535:
                    self.out("error: value is not within range (1..65535)\n")
                    self.show_prompt()
                    return COST_COMMAND
            elif word == "comment" and i + 1 < len(args):
                comment = args[i + 1]
                i += 1
            elif word == "and-quit":
                and_quit = True
            elif word in ("check", "synchronize", "full", "force"):
                pass
            else:
                self.caret(line, CommandError("syntax error.", i + 1))
                self.show_prompt()
                return COST_COMMAND
            i += 1
        outcome = router.commit(
            owner=self,
            user=self.user,
            via="cli",
            check_only=check,
            confirm_minutes=confirm,
            comment=comment,
        )
        delay = router.cost(router.commit_seconds if not check else router.commit_seconds / 2)
        text = commit_cli_text(outcome, check=check, confirm=confirm)
        if outcome.ok and and_quit and not check:
            text += "Exiting configuration mode\n"

        def finish() -> None:
            self.out(text)
            if outcome.ok and and_quit and not check:
                self.leave_configure(message=False)
            else:
                self.show_prompt()

        self.router.clock.call_later(delay, finish)
        return delay

    def cfg_rollback(self, args: list[str], filters: list[str], line: str) -> float:
        index = 0
        if args:
            if not args[0].isdigit():
                self.caret(line, CommandError("syntax error.", 1))
                self.show_prompt()
                return COST_COMMAND
            index = int(args[0])
        try:
            self.router.check_lock(self)
            error = self.router.rollback_candidate(index, self)
        except ConfigLocked as err:
            error = str(err)
        self.out(f"error: {error}\n" if error else "load complete\n")
        self.show_prompt()
        return COST_COMMAND * 4

    def cfg_load(self, args: list[str], filters: list[str], line: str) -> float:
        actions = ("merge", "override", "replace", "set", "update", "patch")
        if len(args) < 2 or args[0] not in actions:
            self.caret(line, CommandError("syntax error.", 1 if not args else 1))
            self.show_prompt()
            return COST_COMMAND
        if args[-1] != "terminal":
            self.out(f"error: Could not open configuration file: {args[-1]}\n")
            self.show_prompt()
            return COST_COMMAND
        self.load_action = args[0]
        self.load_lines = []
        self.mode = "load"
        self.out("[Type ^D at a new line to end input]\n")
        return COST_COMMAND

    def on_load_line(self, line: str) -> float:
        self.load_lines.append(line)
        return 0.0005

    def finish_load(self) -> None:
        self.mode = "config"
        text = "\n".join(self.load_lines)
        fmt = "set" if self.load_action == "set" else "text"
        action = "merge" if self.load_action in ("set", "merge") else self.load_action
        try:
            errors = self.router.load(
                self, text, fmt=fmt, action=action, base=(self.edit_steps, self.edit_kinds)
            )
        except ConfigLocked as err:
            self.out(f"error: {err}\n")
            self.show_prompt()
            return
        for err in errors:
            self.out(f"terminal:{err.line}:({err.col}) {err.message.rstrip('.')}: {err.word}\n")
            if err.statement:
                self.out(f"  [edit]\n    '{err.statement}'\n      {err.message.rstrip('.')}\n")
        self.out(f"load complete ({len(errors)} errors)\n" if errors else "load complete\n")
        self.show_prompt()

    def cfg_run(self, args: list[str], filters: list[str], line: str) -> float:
        command = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
        words = jc.split_words(split_pipes(command)[0])
        try:
            path, rest = match_command(OP_COMMANDS, words)
            if path[0] in ("configure", "exit", "quit", "start", "junoscript", "request"):
                raise CommandError("syntax error, expecting <command>.", 1)
            text = self.router_op(path, rest, split_pipes(command)[1])
        except CommandError as err:
            self.caret(line, CommandError(err.message, err.index + 1))
            self.show_prompt()
            return COST_COMMAND
        self.page(
            apply_filters(text, split_pipes(command)[1], self.router), split_pipes(command)[1]
        )
        return COST_COMMAND

    def cfg_status(self, args: list[str], filters: list[str], line: str) -> float:
        self.out(f"Users currently editing the configuration:\n  {self.label()}\n")
        self.show_prompt()
        return COST_COMMAND


# ------------------------------------------------------------------------------------------
# command tables, operational output
# ------------------------------------------------------------------------------------------
class CommandError(Exception):
    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.message = message
        self.index = index


OP_COMMANDS: dict[str, Any] = {
    "configure": None,
    "show": {
        "version": None,
        "interfaces": None,
        "configuration": None,
        "system": {"commit": None, "uptime": None},
        "chassis": {"hardware": None},
        "lldp": {"neighbors": None},
    },
    "set": {"cli": {"screen-length": None, "screen-width": None, "complete-on-space": None,
                    "terminal": None, "timestamp": None}},
    "start": {"shell": None},
    "request": {"system": {"reboot": None, "zeroize": None}},
    "exit": None,
    "quit": None,
    "logout": None,
    "junoscript": None,
}  # fmt: skip
CONFIG_COMMANDS = [
    "set", "delete", "edit", "top", "up", "exit", "quit", "show", "commit", "rollback", "load",
    "run", "status",
]  # fmt: skip


def match_word(choices, word: str, index: int) -> str:
    if word in choices:
        return word
    found = [c for c in choices if c.startswith(word)]
    if len(found) == 1:
        return found[0]
    if index == 0:
        raise CommandError("unknown command.", index)
    raise CommandError("syntax error, expecting <command>.", index)


def match_command(table: dict, words: list[str]) -> tuple[tuple[str, ...], list[str]]:
    node: Any = table
    path: list[str] = []
    i = 0
    while isinstance(node, dict):
        if i >= len(words):
            raise CommandError("syntax error, expecting <command>.", i)
        word = match_word(list(node), words[i], i)
        path.append(word)
        node = node[word]
        i += 1
    return tuple(path), words[i:]


def split_pipes(line: str) -> tuple[str, list[str]]:
    parts: list[str] = []
    current, quoted = "", False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == "|" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts[0], [p.strip() for p in parts[1:]]


def apply_filters(text: str, filters: list[str], router: JunosRouter) -> str:
    lines = text.splitlines()
    for f in filters:
        words = f.split(None, 1)
        if not words:
            continue
        verb, arg = words[0], (words[1].strip().strip('"') if len(words) > 1 else "")
        if "no-more".startswith(verb) and verb.startswith("n"):
            continue
        if "match".startswith(verb) and verb.startswith("m"):
            lines = [line for line in lines if re.search(arg, line)]
        elif "except".startswith(verb) and verb.startswith("e"):
            lines = [line for line in lines if not re.search(arg, line)]
        elif "count".startswith(verb) and verb.startswith("c"):
            lines = [f"Count: {len(lines)} lines"]
        elif "last".startswith(verb) and verb.startswith("l") and arg.isdigit():
            lines = lines[-int(arg) :]
    return "\n".join(lines) + ("\n" if lines else "")


def render_config(
    node: jc.Node | None, filters: list[str], *, set_prefix: list[jc.Step], top: bool = True
) -> str:
    if node is None:
        return ""
    display_set = any(f.split()[:2] == ["display", "set"] for f in filters)
    if display_set:
        prefix = " ".join(["set"] + [jc.step_text(s) for s in set_prefix])
        lines = jc.render_set(node, prefix, top=top)
    else:
        lines = jc.render_curly(node, top=top)
    return "\n".join(lines) + ("\n" if lines else "")


def commit_cli_text(outcome: CommitOutcome, *, check: bool, confirm: int | None) -> str:
    if outcome.error:
        return f"error: {outcome.error}\n"
    if not outcome.ok:
        lines = []
        for problem in outcome.problems:
            lines += [problem.path, f"  {problem.statement}", f"    {problem.message}"]
        tail = "configuration check-out failed" if check else "commit failed"
        lines.append(f"error: {tail}: (missing mandatory statements)")
        return "\n".join(lines) + "\n"
    if check:
        return "configuration check succeeds\n"
    if confirm:
        return (
            "configuration check succeeds\n"
            f"commit confirmed will be automatically rolled back in {confirm} minutes unless"
            " confirmed\ncommit complete\n"
        )
    return "commit complete\n"


def op_command(
    router: JunosRouter,
    path: tuple[str, ...],
    args: list[str],
    session=None,
    filters: list[str] | None = None,
) -> str:
    name = " ".join(path)
    if name == "show version":
        return show_version(router)
    if name == "show lldp neighbors":
        return show_lldp_neighbors(router)
    if name == "show interfaces":
        terse = "terse" in args
        names = [a for a in args if a not in ("terse", "detail", "extensive", "brief")]
        return show_interfaces_terse(router, names) if terse else show_interfaces(router, names)
    if name == "show configuration":
        tree = router.committed
        node = tree
        if args:
            try:
                statements = jc.parse_words(args, [], delete=True)
            except jc.ConfigSyntaxError as err:
                raise CommandError(err.message, err.index + 2) from None
            node = tree.get(*statements[-1].steps)
        header = ""
        filters = filters or []
        display_set = any(f.split()[:2] == ["display", "set"] for f in filters)
        if not args and not display_set:
            last = router.history[0]
            header = f"## Last commit: {_stamp(last.when)} by {last.user}\n"
            header += f"version {router.version};\n"
        prefix = statements[-1].steps if args else []
        return header + render_config(node, filters, set_prefix=prefix, top=not args)
    if name == "show system commit":
        lines = []
        for index, record in enumerate(router.history):
            extra = ""
            if index == 0 and router.confirm_deadline is not None:
                extra = f" commit confirmed, rollback in {router.confirm_pending_minutes()}mins"
            lines.append(
                f"{index:<4}{_stamp(record.when)} by {record.user} via {record.via}{extra}"
            )
            if record.comment and record.via != "factory":
                lines.append(f"    {record.comment}")
        return "\n".join(lines) + "\n"
    if name == "show system uptime":
        now = _now()
        return (
            f"Current time: {_stamp(now)}\n"
            f"System booted: {_stamp(router.boot_time)} ({_ago(now - router.boot_time)} ago)\n"
            f"Last configured: {_stamp(router.history[0].when)} by {router.history[0].user}\n"
        )
    if name == "show chassis hardware":
        return (
            "Hardware inventory:\n"
            "Item             Version  Part number  Serial number     Description\n"
            f"Chassis                                {router.serial:<17} {router.model.upper()}\n"
            "Routing Engine 0                                         RE-VMX\n"
        )
    if path[:2] == ("set", "cli"):
        value = args[0] if args else ""
        if path[2] == "screen-length":
            if session is not None and value.isdigit():
                session.screen_length = int(value)
            return f"Screen length set to {value}\n"
        if path[2] == "screen-width":
            return f"Screen width set to {value}\n"
        if path[2] == "complete-on-space":
            return (
                "Disabling complete-on-space\n"
                if value == "off"
                else "Enabling complete-on-space\n"
            )
        return ""
    raise CommandError("syntax error, expecting <command>.", len(path))


def show_lldp_neighbors(router: JunosRouter) -> str:
    if router.committed.find("protocols lldp") is None:
        return "warning: lldp subsystem not running - not needed by configuration.\n"
    rows = [
        "Local Interface    Parent Interface    Chassis Id          Port info          System Name"
    ]
    for port, advert in router.lldp_rows():
        rows.append(
            f"{port:<18} {'-':<19} {advert.chassis_id:<19} {advert.port_description:<18} "
            f"{advert.system_name}"
        )
    return "\n".join(rows) + "\n"


def _ago(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def packages(router: JunosRouter) -> list[tuple[str, str, str]]:
    """(package name, description, build) as ``show version`` lists them."""
    k, u = KERNEL_BUILD, USER_BUILD
    return [
        ("os-kernel", "JUNOS OS Kernel 64-bit ", k),
        ("os-libs", "JUNOS OS libs", k),
        ("os-runtime", "JUNOS OS runtime", k),
        ("zoneinfo", "JUNOS OS time zone information", k),
        ("netstack", "JUNOS network stack and utilities", u),
        ("junos-libs", "JUNOS libs", u),
        ("junos-runtime", "JUNOS runtime", u),
        ("junos-platform", "JUNOS platform Software Suite", u),
        ("junos-pfe", "JUNOS Packet Forwarding Engine Simulation Package", u),
        ("py-extensions", "JUNOS py extensions", u),
        ("junos-rpd", "JUNOS Routing Software Suite", u),
        ("junos-crypto", "JUNOS Crypto Software Suite", u),
    ]


def show_version(router: JunosRouter) -> str:
    lines = []
    if router.hostname:
        lines.append(f"Hostname: {router.hostname}")
    lines += [f"Model: {router.model}", f"Junos: {router.version}"]
    lines += [f"{desc} [{build}]" for _, desc, build in packages(router)]
    return "\n".join(lines) + "\n"


def _units(router: JunosRouter, name: str) -> list[tuple[str, jc.Node]]:
    node = router.committed.get(("interfaces",), (name,))
    if node is None:
        return []
    return [(s[1], unit) for s, unit in node.children.items() if s[0] == "unit" and len(s) > 1]


def _admin(router: JunosRouter, name: str, unit: jc.Node | None = None) -> bool:
    node = router.committed.get(("interfaces",), (name,))
    if node is not None and node.find("disable") is not None:
        return False
    return not (unit is not None and unit.find("disable") is not None)


def _families(unit: jc.Node) -> list[tuple[str, list[str]]]:
    return [(s[1], fam.values("address")) for s, fam in unit.children.items() if s[0] == "family"]


def _bundle(router: JunosRouter, name: str) -> str | None:
    node = router.committed.get(("interfaces",), (name,))
    opts = node.find("ether-options") if node is not None else None
    return opts.value("802.3ad") if opts is not None else None


def show_interfaces_terse(router: JunosRouter, names: list[str]) -> str:
    rows = ["Interface               Admin Link Proto    Local                 Remote"]
    for name in router.interface_names():
        if names and not any(name == n or name.startswith(n.rstrip("*")) for n in names):
            continue
        admin = _admin(router, name)
        link = admin and router.link_up(name)
        state = ("up" if admin else "down", "up" if link else "down")
        rows.append(f"{name:<24}{state[0]:<6}{state[1]}")
        units = _units(router, name)
        bundle = _bundle(router, name)
        if bundle:
            rows.append(f"{name + '.0':<24}{state[0]:<6}{state[1]:<5}aenet    --> {bundle}.0")
        for unit_name, unit in units:
            unit_admin = admin and _admin(router, name, unit)
            ok = "up" if unit_admin else "down"
            unit_link = "up" if unit_admin and link else "down"
            label = f"{name}.{unit_name}"
            families = _families(unit) or [("", [])]
            first = True
            for family, addresses in families:
                for address in addresses or [""]:
                    local, remote = address, ""
                    if name == "lo0" and address.endswith("/32"):
                        local, remote = address[:-3], "--> 0/0"
                    head = f"{label:<24}{ok:<6}{unit_link:<5}" if first else " " * 35
                    rows.append(f"{head}{family:<9}{local:<22}{remote}".rstrip())
                    first = False
                    family = ""
    return "\n".join(rows) + "\n"


def _mac(router: JunosRouter, index: int) -> str:
    seed = sum(router.serial.encode()) % 256
    return f"2c:6b:f5:{seed:02x}:{index // 256:02x}:{index % 256:02x}"


def show_interfaces(router: JunosRouter, names: list[str]) -> str:
    out: list[str] = []
    all_names = router.interface_names()
    if names:
        missing = [n for n in names if n not in all_names]
        if missing:
            return f"error: device {missing[0]} not found\n"
    for index, name in enumerate(all_names):
        if names and name not in names:
            continue
        node = router.committed.get(("interfaces",), (name,))
        admin = _admin(router, name)
        link = admin and router.link_up(name)
        description = node.value("description") if node is not None else None
        mtu = node.value("mtu") if node is not None else None
        snmp = router.snmp_ifindex(name)
        out.append(
            f"Physical interface: {name}, {'Enabled' if admin else 'Administratively down'},"
            f" Physical link is {'Up' if link else 'Down'}"
        )
        out.append(f"  Interface index: {140 + index}, SNMP ifIndex: {snmp}")
        if description:
            out.append(f"  Description: {description}")
        if name == "lo0":
            out.append("  Type: Loopback, MTU: Unlimited")
        else:
            out.append(
                f"  Link-level type: Ethernet, MTU: {mtu or 1514}, MRU: 1522, Speed: 1000mbps,"
                " BPDU Error: None, Loop Detect PDU Error: None, MAC-REWRITE Error: None,"
                " Loopback: Disabled, Source filtering: Disabled, Flow control: Enabled"
            )
        out.append("  Device flags   : Present Running")
        out.append("  Interface flags: SNMP-Traps Internal: 0x4000")
        out.append("  Link flags     : None")
        if name != "lo0":
            out.append("  CoS queues     : 8 supported, 8 maximum usable queues")
            mac = _mac(router, index)
            out.append(f"  Current address: {mac}, Hardware address: {mac}")
            out.append(f"  Last flapped   : {_stamp(router.boot_time)} (00:10:00 ago)")
            out.append("  Input rate     : 0 bps (0 pps)")
            out.append("  Output rate    : 0 bps (0 pps)")
            out.append("  Active alarms  : None")
            out.append("  Active defects : None")
            out.append("  Interface transmit statistics: Disabled")
        for unit_index, (unit_name, unit) in enumerate(_units(router, name)):
            out.append("")
            out.append(
                f"  Logical interface {name}.{unit_name} (Index {330 + unit_index})"
                f" (SNMP ifIndex {snmp + 100 + unit_index})"
            )
            state = "Up" if link and _admin(router, name, unit) else "Down"
            out.append(f"    Flags: {state} SNMP-Traps 0x4004000 Encapsulation: ENET2")
            out.append("    Input packets : 0")
            out.append("    Output packets: 0")
            for family, addresses in _families(unit):
                fam_mtu = "Unlimited" if name == "lo0" else str(int(mtu or 1514) - 14)
                out.append(f"    Protocol {family}, MTU: {fam_mtu}")
                out.append("      Flags: Sendbcast-pkt-to-re")
                for address in addresses:
                    out.append("      Addresses, Flags: Is-Preferred Is-Primary")
                    try:
                        import ipaddress

                        iface = ipaddress.ip_interface(address)
                    except ValueError:
                        continue
                    if iface.network.prefixlen == iface.max_prefixlen:
                        out.append(f"        Local: {iface.ip}")
                    else:
                        broadcast = (
                            f", Broadcast: {iface.network.broadcast_address}"
                            if iface.version == 4
                            else ""
                        )
                        out.append(
                            f"        Destination: {iface.network}, Local: {iface.ip}{broadcast}"
                        )
        out.append("")
    return "\n".join(out) + "\n"
