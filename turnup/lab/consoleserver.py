"""A simulated console server: reverse telnet to TCP ``telnet_base + line`` and SSH with the
line in the user name (Opengear style ``user:line`` / ``user:portN``), one session per line.

Telnet is negotiated the way terminal servers do it: the server offers ``WILL ECHO`` and
``WILL SUPPRESS-GO-AHEAD`` (the router echoes, character at a time), asks ``DO
SUPPRESS-GO-AHEAD``, refuses every other option, strips commands and sub-negotiations from
the input, un-doubles ``IAC IAC``, turns ``CR NUL`` into ``CR`` and doubles 0xFF in output.
"""

from __future__ import annotations

import asyncio
import logging
import re

import asyncssh

from turnup.lab.line import Line

log = logging.getLogger(__name__)

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
ECHO, SGA = 1, 3
BUSY_MESSAGE = b"\r\n% Connection refused by remote host: port in use\r\n"


class TelnetDecoder:
    """Input side of a telnet server: data bytes out, option requests answered."""

    def __init__(self, reply):
        self._reply = reply  # callable(bytes) -> None, writes raw bytes to the socket
        self._state = "data"
        self._verb = 0
        self._answered: set[tuple[int, int]] = set()

    def feed(self, raw: bytes) -> bytes:
        out = bytearray()
        for byte in raw:
            state = self._state
            if state == "data":
                if byte == IAC:
                    self._state = "iac"
                elif byte == 0 and out[-1:] == b"\r":
                    pass  # CR NUL is a bare CR
                else:
                    out.append(byte)
            elif state == "iac":
                if byte == IAC:
                    out.append(IAC)
                    self._state = "data"
                elif byte in (DO, DONT, WILL, WONT):
                    self._verb = byte
                    self._state = "option"
                elif byte == SB:
                    self._state = "sb"
                else:
                    self._state = "data"  # NOP, AYT, BRK, GA …: ignored
            elif state == "option":
                self._option(self._verb, byte)
                self._state = "data"
            elif state == "sb":
                if byte == IAC:
                    self._state = "sb-iac"
            elif state == "sb-iac":
                self._state = "data" if byte == SE else "sb"
        return bytes(out)

    def _option(self, verb: int, option: int) -> None:
        if (verb, option) in self._answered:
            return  # answer each request once: no negotiation loops
        self._answered.add((verb, option))
        if verb == DO and option not in (ECHO, SGA):
            self._reply(bytes((IAC, WONT, option)))
        elif verb == WILL and option != SGA:
            self._reply(bytes((IAC, DONT, option)))
        # DO ECHO/SGA and WILL SGA confirm what we offered; DONT/WONT need no answer


class _TelnetClient:
    """A telnet connection attached to a line (the line's Client)."""

    def __init__(self, writer: asyncio.StreamWriter):
        self.writer = writer

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data.replace(b"\xff", b"\xff\xff"))

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()


class ConsoleServer:
    """Console server ``name`` with its lines, on ``host``."""

    def __init__(
        self,
        name: str,
        lines: dict[int, Line],
        *,
        host: str = "127.0.0.1",
        telnet_base: int = 2000,
        ssh_port: int | None = None,
        username: str = "admin",
        password: str = "admin",
        telnet_login: bool = False,
        banner: str = "",
        line_ports: dict[int, int] | None = None,
        line_ssh_ports: dict[int, int] | None = None,
    ):
        self.name = name
        self.lines = lines
        self.host = host
        self.telnet_base = telnet_base
        self.ssh_port = ssh_port
        self.username = username
        self.password = password
        self.telnet_login = telnet_login
        self.banner = banner  # printed on connect (some servers do; scrapli needs one)
        self.line_ports = dict(line_ports or {})  # per-line telnet port overrides
        # per-line SSH ports (Opengear's 3000+N style); lines sharing one port are told apart
        # by the user name, as on ``ssh_port``
        self.line_ssh_ports = dict(line_ssh_ports or {})
        self.telnet_ports: dict[int, int] = {}
        self.ssh_ports: dict[int, int] = {}  # line -> the SSH port it is reached on
        self._servers: list = []
        self._ssh: list = []
        self.connections: set = set()  # open telnet writers and SSH connections

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        for number, line in sorted(self.lines.items()):
            port = self.line_ports.get(number, self.telnet_base + number if self.telnet_base else 0)
            server = await asyncio.start_server(
                lambda r, w, line=line: self._telnet(line, r, w), self.host, port
            )
            self.telnet_ports[number] = server.sockets[0].getsockname()[1]
            self._servers.append(server)
        listeners: dict[int, dict[int, Line]] = {}
        for number, port in sorted(self.line_ssh_ports.items()):
            if number in self.lines:
                listeners.setdefault(port, {})[number] = self.lines[number]
        if self.ssh_port is not None:
            self.ssh_port = await self._ssh_listen(self.ssh_port, self.lines)
            self.ssh_ports = dict.fromkeys(self.lines, self.ssh_port)
        for port, lines in listeners.items():
            only = next(iter(lines.values())) if len(lines) == 1 else None
            bound = await self._ssh_listen(port, lines, default=only)
            self.ssh_ports.update(dict.fromkeys(lines, bound))

    async def _ssh_listen(
        self, port: int, lines: dict[int, Line], *, default: Line | None = None
    ) -> int:
        """An SSH service on ``port`` reaching ``lines``, named in the user name; without one,
        ``default`` (or the ``connect N`` menu). Returns the bound port."""
        key = asyncssh.generate_private_key("ssh-ed25519")
        listener = await asyncssh.create_server(
            lambda: _SshServer(self, lines, default),
            self.host,
            port,
            server_host_keys=[key],
            encoding=None,
            line_editor=False,
            keepalive_interval=0,
        )
        self._ssh.append(listener)
        return listener.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for listener in self._ssh:
            listener.close()
        for line in self.lines.values():
            line.hangup()
        for conn in list(self.connections):
            conn.close()
        await asyncio.sleep(0)
        for server in self._servers:
            await server.wait_closed()
        for listener in self._ssh:
            await listener.wait_closed()

    def line_for(self, spec: str, lines: dict[int, Line] | None = None) -> Line | None:
        """A line (of ``lines``, default all) from ``"3"``, ``"port3"``, ``"port03"``,
        ``"ttyS3"`` or the router name."""
        lines = self.lines if lines is None else lines
        match = re.fullmatch(r"(?:port|ttyS|line)?0*(\d+)", spec, re.IGNORECASE)
        if match:
            return lines.get(int(match.group(1)))
        for line in lines.values():
            if line.router is not None and line.router.name == spec:
                return line
        return None

    def check_password(self, password: str, line: Line | None) -> bool:
        wrong = line is not None and line.faults.wrong_password
        return password == self.password and not wrong

    # -- reverse telnet ----------------------------------------------------------------------
    async def _telnet(self, line: Line, reader, writer) -> None:
        peer = writer.get_extra_info("peername")
        self.connections.add(writer)
        writer.write(bytes((IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, SGA)))
        decoder = TelnetDecoder(writer.write)
        client = _TelnetClient(writer)
        try:
            if self.telnet_login and not await self._telnet_auth(line, reader, writer, decoder):
                return
            if not line.connect(client, f"telnet {peer[0]}:{peer[1]}"):
                writer.write(BUSY_MESSAGE)
                await writer.drain()
                return
            if self.banner:
                writer.write(self.banner.replace("\n", "\r\n").encode())
            try:
                while True:
                    raw = await reader.read(4096)
                    if not raw:
                        break
                    if writer.is_closing():
                        break
                    line.from_client(decoder.feed(raw))
            finally:
                line.disconnect(client)
        except (ConnectionError, OSError, asyncio.CancelledError, TimeoutError):
            pass  # the client went away, or the lab is stopping
        finally:
            self.connections.discard(writer)
            if not writer.is_closing():
                writer.close()

    async def _telnet_auth(self, line, reader, writer, decoder) -> bool:
        async def ask(prompt: bytes, echo: bool) -> str:
            writer.write(prompt)
            typed = bytearray()
            while True:
                raw = await asyncio.wait_for(reader.read(1024), 60)
                if not raw:
                    raise ConnectionError
                for byte in decoder.feed(raw):
                    if byte in (10, 13):
                        if typed or byte == 13:
                            writer.write(b"\r\n")
                            return typed.decode(errors="replace")
                    elif byte in (8, 127):
                        typed = typed[:-1]
                    else:
                        typed.append(byte)
                        if echo:
                            writer.write(bytes((byte,)))

        for _attempt in range(3):
            user = await ask(b"\r\nUser Access Verification\r\n\r\nUsername: ", True)
            password = await ask(b"Password: ", False)
            if user == self.username and self.check_password(password, line):
                return True
            writer.write(b"% Authentication failed\r\n")
        return False


class _SshServer(asyncssh.SSHServer):
    def __init__(self, cs: ConsoleServer, lines: dict[int, Line], default: Line | None):
        self.cs = cs
        self.lines = lines  # what this port reaches
        self.default = default  # where a user name without a line lands
        self.line: Line | None = None
        self.conn = None

    def connection_made(self, conn) -> None:
        self.conn = conn
        self.cs.connections.add(conn)

    def connection_lost(self, exc) -> None:
        self.cs.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        user, _, target = username.partition(":")
        line = self.cs.line_for(target, self.lines) if target else self.default
        if target and line is None:
            return False
        if user != self.cs.username or not self.cs.check_password(password, line):
            return False
        self.line = line
        return True

    def session_requested(self):
        return _SshSession(self.cs, self.line)


class _SshSession(asyncssh.SSHServerSession):
    """An SSH shell: straight onto the line, or a small ``connect N`` menu without one."""

    def __init__(self, cs: ConsoleServer, line: Line | None):
        self.cs = cs
        self.line = line
        self.chan = None
        self.attached = False
        self._typed = bytearray()

    # the line's Client interface
    def send(self, data: bytes) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(data)

    def close(self) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.close()

    # asyncssh callbacks
    def connection_made(self, chan) -> None:
        self.chan = chan

    def pty_requested(self, term_type, term_size, term_modes) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def session_started(self) -> None:
        if self.line is not None:
            self._attach(self.line)
        else:
            self.chan.write(f"\r\n{self.cs.name}> ".encode())

    def _attach(self, line: Line) -> None:
        peer = self.chan.get_extra_info("peername") or ("?", 0)
        if not line.connect(self, f"ssh {peer[0]}:{peer[1]}"):
            self.chan.write(BUSY_MESSAGE)
            self.chan.exit(1)
            return
        self.line = line
        self.attached = True

    def data_received(self, data: bytes, datatype) -> None:
        if self.attached and self.line is not None:
            self.line.from_client(data)
            return
        for byte in data:
            if byte in (10, 13):
                if not self._typed and byte == 10:
                    continue
                self._command(self._typed.decode(errors="replace").strip())
                self._typed.clear()
                if self.attached:
                    return
            elif byte in (8, 127):
                if self._typed:
                    self._typed = self._typed[:-1]
                    self.chan.write(b"\b \b")
            else:
                self._typed.append(byte)
                self.chan.write(bytes((byte,)))

    def _command(self, command: str) -> None:
        self.chan.write(b"\r\n")
        words = command.split()
        if not words:
            pass
        elif words[0] in ("connect", "c") and len(words) == 2:
            line = self.cs.line_for(words[1])
            if line is None:
                self.chan.write(f"% No such line: {words[1]}\r\n".encode())
            else:
                self._attach(line)
                return
        elif words[0] in ("show", "sh") and len(words) == 2 and words[1].startswith("line"):
            for number, line in sorted(self.cs.lines.items()):
                router = line.router.name if line.router else "-"
                state = "in use" if line.in_use else "idle"
                self.chan.write(f"{number:>4}  {router:<24} {line.baud:>6}  {state}\r\n".encode())
        elif words[0] in ("exit", "quit", "logout"):
            self.chan.exit(0)
            return
        else:
            self.chan.write(b"% Commands: connect <line>, show lines, exit\r\n")
        self.chan.write(f"{self.cs.name}> ".encode())

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc) -> None:
        if self.attached and self.line is not None:
            self.line.disconnect(self)
        self.attached = False
