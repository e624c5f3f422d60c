"""A lab: console servers, their lines, the routers wired to them, the cables between routers
(``links``), the management plane and a small control endpoint — all on one asyncio loop. Built
from a lab-file dict (YAML, see the README's "The lab" section and ``example-lab.yaml``); no
Django here.

Control endpoint (JSON over HTTP on loopback, default 127.0.0.1:7600):
  GET  /status                         every console server, line, router, state, bytes, faults
  POST /faults   {"router": "r1", "faults": {...}}   or
                 {"console_server": "cs1", "line": 3, "faults": {...}}
  POST /reload   {"router": "r1"}      power-cycle a router (keeps its saved config)
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from turnup.lab.consoleserver import ConsoleServer
from turnup.lab.device import (
    DEFAULT_INPUT_BUFFER_BYTES,
    Cabling,
    Clock,
    Faults,
    Port,
    RouterSpec,
    SimRouter,
    build_router,
)
from turnup.lab.line import DEFAULT_HOLD_BYTES, Line
from turnup.lab.mgmt import AddressMap, ManagementPlane

log = logging.getLogger(__name__)

DEFAULT_CONTROL = "127.0.0.1:7600"


class LabFileError(ValueError):
    """The lab file is malformed; the message names the offending entry."""


def _faults(data: Any, where: str) -> Faults:
    faults = Faults()
    if data:
        if not isinstance(data, dict):
            raise LabFileError(f"{where}: faults must be a mapping")
        try:
            faults.update(data)
        except ValueError as error:
            raise LabFileError(f"{where}: {error}") from None
    return faults


def _router_spec(data: dict, index: int) -> RouterSpec:
    where = f"routers[{index}]"
    if not isinstance(data, dict) or "name" not in data or "platform" not in data:
        raise LabFileError(f"{where}: needs name and platform")
    known = {
        "name",
        "platform",
        "model",
        "serial",
        "interfaces",
        "startup_config",
        "input_buffer_bytes",
        "options",
        "faults",
    }
    unknown = set(data) - known
    if unknown:
        raise LabFileError(f"{where}: unknown keys {sorted(unknown)}")
    return RouterSpec(
        name=str(data["name"]),
        platform=str(data["platform"]),
        model=str(data.get("model") or ""),
        serial=str(data.get("serial") or ""),
        interfaces=list(data.get("interfaces") or []),
        startup_config=data.get("startup_config"),
        input_buffer_bytes=int(data.get("input_buffer_bytes") or DEFAULT_INPUT_BUFFER_BYTES),
        options=dict(data.get("options") or {}),
        faults=_faults(data.get("faults"), where),
    )


@dataclass
class LineSpec:
    number: int
    router: str | None
    baud: int
    faults: Faults
    telnet_port: int | None = None
    ssh_port: int | None = None


def _lines(data: Any, default_baud: int, where: str) -> list[LineSpec]:
    """Lines as a mapping ``{3: {router: r1}}`` / ``{3: r1}`` or a list ``[{line: 3, …}]``."""
    items: list[tuple[int, Any]] = []
    if isinstance(data, dict):
        items = [(int(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        for entry in data:
            if not isinstance(entry, dict) or "line" not in entry:
                raise LabFileError(f"{where}: every line needs a 'line' number")
            items.append((int(entry["line"]), entry))
    elif data is not None:
        raise LabFileError(f"{where}: lines must be a mapping or a list")
    out = []
    for number, value in items:
        if isinstance(value, str) or value is None:
            value = {"router": value}
        out.append(
            LineSpec(
                number=number,
                router=value.get("router"),
                baud=int(value.get("baud", default_baud)),
                faults=_faults(value.get("faults"), f"{where} line {number}"),
                telnet_port=int(value["telnet_port"]) if value.get("telnet_port") else None,
                ssh_port=int(value["ssh_port"]) if value.get("ssh_port") is not None else None,
            )
        )
    return out


def _port(text: Any, routers: dict[str, SimRouter], where: str) -> Port:
    """One end of a link: ``"<router> <interface>"``, the interface as the router names it."""
    router_name, _, interface = str(text).strip().partition(" ")
    if not interface.strip():
        raise LabFileError(f"{where}: {text!r} is not '<router> <interface>'")
    router = routers.get(router_name)
    if router is None:
        raise LabFileError(f"{where}: no router {router_name!r}")
    name = router.port_name(interface.strip())
    if name is None:
        raise LabFileError(f"{where}: {router_name} has no interface {interface.strip()!r}")
    return Port(router, name)


def _cabling(data: Any, routers: dict[str, SimRouter]) -> Cabling:
    """The ``links`` list: ``[{a: "r1 GigabitEthernet0/0/1", b: "r2 ge-0/0/1"}, …]``."""
    if data is not None and not isinstance(data, list):
        raise LabFileError("links: must be a list of {a: '<router> <interface>', b: …}")
    cabling = Cabling()
    used: dict[tuple[str, str], str] = {}
    for index, entry in enumerate(data or []):
        where = f"links[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"a", "b"}:
            raise LabFileError(f"{where}: needs exactly a and b, each '<router> <interface>'")
        ends = [_port(entry[side], routers, where) for side in ("a", "b")]
        for end in ends:
            key = (end.router.name, end.interface)
            if key in used:
                raise LabFileError(
                    f"{where}: {end.router.name} {end.interface} is already in {used[key]}"
                )
            used[key] = where
        cabling.connect(*ends)
    return cabling


class Lab:
    def __init__(self, config: dict, *, time_scale: float | None = None):
        if not isinstance(config, dict):
            raise LabFileError("the lab file must be a mapping")
        self.config = config
        self.name = str(config.get("name", "lab"))
        scale = time_scale if time_scale is not None else float(config.get("time_scale", 1.0))
        self.clock = Clock(time_scale=scale)
        self.control_address = str(config.get("control", DEFAULT_CONTROL))
        self.routers: dict[str, SimRouter] = {}
        for index, data in enumerate(config.get("routers") or []):
            spec = _router_spec(data, index)
            if spec.name in self.routers:
                raise LabFileError(f"routers[{index}]: duplicate router {spec.name!r}")
            try:
                self.routers[spec.name] = build_router(spec, self.clock)
            except ValueError as error:
                raise LabFileError(f"routers[{index}]: {error}") from None
        self.cabling = _cabling(config.get("links"), self.routers)
        for router in self.routers.values():
            router.cabling = self.cabling
        self.servers: dict[str, ConsoleServer] = {}
        wired: dict[str, str] = {}
        for index, data in enumerate(config.get("console_servers") or []):
            where = f"console_servers[{index}]"
            if not isinstance(data, dict) or "name" not in data:
                raise LabFileError(f"{where}: needs a name")
            baud = int(data.get("baud", 9600))
            lines: dict[int, Line] = {}
            line_ports: dict[int, int] = {}
            line_ssh_ports: dict[int, int] = {}
            for spec in _lines(data.get("lines"), baud, where):
                router = None
                if spec.router is not None:
                    router = self.routers.get(str(spec.router))
                    if router is None:
                        raise LabFileError(f"{where} line {spec.number}: no router {spec.router!r}")
                    if router.name in wired:
                        raise LabFileError(
                            f"{where} line {spec.number}: {router.name} is already on "
                            f"{wired[router.name]}"
                        )
                    wired[router.name] = f"{data['name']} line {spec.number}"
                if spec.telnet_port:
                    line_ports[spec.number] = spec.telnet_port
                if spec.ssh_port is not None:
                    line_ssh_ports[spec.number] = spec.ssh_port
                lines[spec.number] = Line(
                    spec.number,
                    router,
                    clock=self.clock,
                    baud=spec.baud,
                    faults=spec.faults,
                    hold_bytes=int(data.get("hold_output_bytes", DEFAULT_HOLD_BYTES)),
                )
            ssh_port = data.get("ssh_port")  # absent: no SSH; 0: an ephemeral port
            self.servers[str(data["name"])] = ConsoleServer(
                str(data["name"]),
                lines,
                host=str(data.get("host", "127.0.0.1")),
                telnet_base=int(data.get("telnet_base", 2000)),
                ssh_port=None if ssh_port is None or ssh_port is False else int(ssh_port),
                username=str(data.get("username", "admin")),
                password=str(data.get("password", "admin")),
                telnet_login=bool(data.get("telnet_login", False)),
                banner=str(data.get("banner", "")),
                line_ports=line_ports,
                line_ssh_ports=line_ssh_ports,
            )
        self.mgmt = ManagementPlane(
            AddressMap(config.get("mgmt_map") or {}, ssh_port=int(config.get("mgmt_ssh_port", 22)))
        )
        self._control = None

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self, *, control: bool = True) -> None:
        for router in self.routers.values():
            self.mgmt.watch(router)
        for server in self.servers.values():
            await server.start()
        for router in self.routers.values():
            router.power_on()
        if control:
            host, _, port = self.control_address.rpartition(":")
            self._control = await asyncio.start_server(self._http, host, int(port))
            sock = self._control.sockets[0].getsockname()
            self.control_address = f"{sock[0]}:{sock[1]}"

    async def stop(self) -> None:
        if self._control is not None:
            self._control.close()
        for server in self.servers.values():
            await server.stop()
        await self.mgmt.stop()

    # -- lookups and control ------------------------------------------------------------------
    def line_of(self, router_name: str) -> tuple[ConsoleServer, Line] | None:
        for server in self.servers.values():
            for line in server.lines.values():
                if line.router is not None and line.router.name == router_name:
                    return server, line
        return None

    def set_faults(
        self, values: dict, *, router: str | None = None, console_server=None, line=None
    ):
        if router is not None:
            if router not in self.routers:
                raise KeyError(f"no router {router!r}")
            target = self.routers[router].faults
            found = self.line_of(router)
            line_faults = found[1].faults if found else None
        else:
            server = self.servers.get(str(console_server))
            if server is None or int(line) not in server.lines:
                raise KeyError(f"no line {console_server}/{line}")
            target = line_faults = server.lines[int(line)].faults
        Faults().update(values)  # validate everything before changing anything
        router_keys = {"silent", "slow_factor", "reboot_after_save", "mgmt_down"}
        for key, value in values.items():
            if key in router_keys or line_faults is None:
                target.update({key: value})
            else:
                line_faults.update({key: value})

    def status(self) -> dict:
        servers = []
        for server in self.servers.values():
            lines = []
            for number, line in sorted(server.lines.items()):
                entry = line.status()
                entry["telnet_port"] = server.telnet_ports.get(number)
                entry["ssh_port"] = server.ssh_ports.get(number)
                if line.router is not None:
                    entry["mgmt"] = self.mgmt.endpoints(line.router)
                    entry["router_faults"] = line.router.faults.as_dict()
                lines.append(entry)
            servers.append(
                {
                    "name": server.name,
                    "host": server.host,
                    "ssh_port": server.ssh_port,
                    "username": server.username,
                    "lines": lines,
                }
            )
        return {
            "name": self.name,
            "time_scale": self.clock.time_scale,
            "control": self.control_address,
            "console_servers": servers,
            "mgmt_map": self.mgmt.map.as_dict(),
            "mgmt_errors": dict(self.mgmt.errors),
        }

    async def _http(self, reader, writer) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            length = 0
            for header in header_lines:
                name, _, value = header.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = json.loads(await reader.readexactly(length)) if length else {}
            code, payload = self._dispatch(method, path, body)
        except (ValueError, KeyError, asyncio.IncompleteReadError) as error:
            code, payload = 400, {"message": str(error)}
        except (TimeoutError, ConnectionError):
            writer.close()
            return
        data = json.dumps(payload).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[code]
        writer.write(
            f"HTTP/1.0 {code} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        writer.close()

    def _dispatch(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        if method == "GET" and path == "/status":
            return 200, self.status()
        if method == "POST" and path == "/faults":
            self.set_faults(
                body.get("faults") or {},
                router=body.get("router"),
                console_server=body.get("console_server"),
                line=body.get("line"),
            )
            return 200, {"ok": True}
        if method == "POST" and path == "/reload":
            router = self.routers[str(body.get("router"))]
            router.power_on()
            return 200, {"ok": True}
        return 404, {"message": f"no such endpoint {method} {path}"}


async def serve(config: dict, *, ready=None) -> None:
    """Run a lab until cancelled (the ``turnup lab start`` command)."""
    lab = Lab(config)
    await lab.start()
    if ready is not None:
        ready(lab)
    try:
        await asyncio.Event().wait()
    finally:
        await lab.stop()
