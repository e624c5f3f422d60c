"""The management plane: routers answer SSH (and Junos NETCONF) once their config says so.

A router's design management address (say ``10.0.0.5``) is not routable on a laptop, so the
lab maps it to a loopback socket (see :class:`AddressMap`):

* an exact entry ``"10.0.0.5": "127.0.0.1:22005"``;
* a network entry ``"10.0.0.0/24": "127.0.0.1:22000"`` (port = 22000 + host index, so
  10.0.0.5 → 127.0.0.1:22005) or ``"10.0.0.0/24": "127.1.0.0/24"`` (same host index inside
  that loopback network, on the lab's ``mgmt_ssh_port``, 22 by default);
* an address already inside ``127.0.0.0/8`` is used as is, on ``mgmt_ssh_port`` (and 830 too
  for NETCONF when the ports are the defaults).

An address with no mapping is unreachable, exactly like a wrong address on a real network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

import asyncssh

from turnup.lab.device import SimRouter

log = logging.getLogger(__name__)


class AddressMap:
    def __init__(self, entries: dict[str, str] | None = None, *, ssh_port: int = 22):
        self.ssh_port = ssh_port
        self.exact: dict[str, tuple[str, int]] = {}
        self.networks: list[tuple[ipaddress.IPv4Network, str]] = []
        for key, value in (entries or {}).items():
            key, value = str(key), str(value)
            if "/" in key:
                self.networks.append((ipaddress.ip_network(key, strict=False), value))
            else:
                host, _, port = value.rpartition(":")
                self.exact[key] = (host, int(port))

    def resolve(self, address: str) -> list[tuple[str, int]]:
        """Loopback sockets for a design address; [] when unreachable."""
        if address in self.exact:
            return [self.exact[address]]
        ip = ipaddress.ip_address(address)
        for network, value in self.networks:
            if ip in network:
                offset = int(ip) - int(network.network_address)
                if "/" in value:
                    target = ipaddress.ip_network(value, strict=False)
                    return [(str(target.network_address + offset), self.ssh_port)]
                host, _, base = value.rpartition(":")
                port = int(base) + offset
                return [(host, port)] if port <= 65535 else []
        if ip in ipaddress.ip_network("127.0.0.0/8"):
            return [(address, self.ssh_port)]
        return []

    def as_dict(self) -> dict:
        return {
            "ssh_port": self.ssh_port,
            "exact": {k: f"{h}:{p}" for k, (h, p) in self.exact.items()},
            "networks": {str(n): v for n, v in self.networks},
        }


class _Pump:
    """Feeds a management session like the line does, minus baud and buffer limit."""

    def __init__(self, session, loop: asyncio.AbstractEventLoop, clock):
        self.session = session
        self.loop = loop
        self.clock = clock
        self.buffer = bytearray()
        self.busy_until = 0.0
        self.wake = None

    def push(self, data: bytes) -> None:
        self.buffer += data
        if self.wake is None:
            self.run()

    def run(self) -> None:
        self.wake = None
        while self.buffer and self.session is not None:
            now = self.loop.time()
            if now < self.busy_until:
                self.wake = self.loop.call_at(self.busy_until, self.run)
                return
            try:
                consumed, busy = self.session.feed(bytes(self.buffer))
            except Exception:  # a simulator bug must not wedge the session
                log.exception("lab: management session failed on its input")
                consumed, busy = len(self.buffer), 0.0
            del self.buffer[: max(consumed, 1)]
            if busy > 0:
                self.busy_until = now + self.clock.scaled(busy)


class _MgmtSession(asyncssh.SSHServerSession):
    def __init__(self, router: SimRouter, username: str):
        self.router = router
        self.username = username
        self.chan = None
        self.session = None
        self.pump: _Pump | None = None
        self.netconf = False
        self.pending = bytearray()

    # Console interface for the router's session. What the router writes while the loop
    # runs one callback (the echo of a whole chunk of input, a command's output) goes out as
    # one SSH packet, as a vty's output buffer does, not one packet per echoed character.
    def write(self, data: bytes) -> None:
        if self.chan is None or self.chan.is_closing():
            return
        if not self.pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self.pending += data

    def flush(self) -> None:
        data, self.pending = bytes(self.pending), bytearray()
        if data and self.chan is not None and not self.chan.is_closing():
            self.chan.write(data)

    def hangup(self) -> None:
        self.flush()
        if self.chan is not None and not self.chan.is_closing():
            self.chan.exit(0)

    def connection_made(self, chan) -> None:
        self.chan = chan

    def pty_requested(self, term_type, term_size, term_modes) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        if subsystem != "netconf":
            return False
        management = self.router.management()
        if management is None or not management.netconf:
            return False
        self.netconf = True
        return True

    def session_started(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self.netconf:
                self.session = self.router.open_netconf(self, self.username)
            else:
                self.session = self.router.open_cli(self, self.username)
        except NotImplementedError:
            self.chan.exit(1)
            return
        self.pump = _Pump(self.session, loop, self.router.clock)

    def data_received(self, data: bytes, datatype) -> None:
        if self.pump is not None:
            self.pump.push(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.pump is not None:
            self.pump.session = None


class _MgmtServer(asyncssh.SSHServer):
    def __init__(self, router: SimRouter, connections: set):
        self.router = router
        self.username = ""
        self.connections = connections
        self.conn = None

    def connection_made(self, conn) -> None:
        self.conn = conn
        self.connections.add(conn)
        if self.router.faults.mgmt_down:
            conn.abort()

    def connection_lost(self, exc) -> None:
        self.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        if self.router.management() is None:
            return False
        if self.router.check_login(username, password):
            self.username = username
            self.router.mgmt_logins += 1
            return True
        return False

    def session_requested(self):
        return _MgmtSession(self.router, self.username)


class ManagementPlane:
    """Opens and closes each router's management listeners as its config changes."""

    def __init__(self, address_map: AddressMap):
        self.map = address_map
        self.listeners: dict[str, dict[tuple[str, int], object]] = {}
        self.errors: dict[str, str] = {}
        self._key = None
        self._pending: dict[str, asyncio.Task] = {}
        self.connections: set = set()

    def watch(self, router: SimRouter) -> None:
        router.on_management_change = self.changed

    def changed(self, router: SimRouter) -> None:
        task = self._pending.get(router.name)
        if task is not None and not task.done():
            task.add_done_callback(lambda _t: self.changed(router))
            return
        self._pending[router.name] = asyncio.get_running_loop().create_task(self.sync(router))

    def wanted(self, router: SimRouter) -> set[tuple[str, int]]:
        management = router.management()
        if management is None or not (management.ssh or management.netconf):
            return set()
        sockets = set(self.map.resolve(management.address))
        # a router answers on every address it has (IOS: any interface not shut down), so the
        # engine reaches it on the design's management address whichever interface holds it
        for address in router.addresses():
            sockets |= set(self.map.resolve(address))
        if management.netconf and self.map.ssh_port == 22:
            sockets |= {(host, 830) for host, port in sockets if port == 22}
        return sockets

    async def sync(self, router: SimRouter) -> None:
        wanted = self.wanted(router)
        current = self.listeners.setdefault(router.name, {})
        for sock in list(current):
            if sock not in wanted:
                server = current.pop(sock)
                server.close()
        for sock in wanted - set(current):
            if self._key is None:
                self._key = asyncssh.generate_private_key("ssh-ed25519")
            try:
                current[sock] = await asyncssh.create_server(
                    lambda router=router: _MgmtServer(router, self.connections),
                    sock[0],
                    sock[1],
                    server_host_keys=[self._key],
                    encoding=None,
                    line_editor=False,
                    reuse_address=True,
                )
                self.errors.pop(router.name, None)
            except OSError as error:
                self.errors[router.name] = f"{sock[0]}:{sock[1]}: {error.strerror}"
                log.warning("lab: %s management listener %s:%s: %s", router.name, *sock, error)

    def endpoints(self, router: SimRouter) -> list[str]:
        return sorted(f"{h}:{p}" for h, p in self.listeners.get(router.name, {}))

    async def stop(self) -> None:
        for current in self.listeners.values():
            for server in current.values():
                server.close()
        self.listeners.clear()
        for conn in list(self.connections):
            conn.close()
        await asyncio.sleep(0)
