"""Fixtures that run a lab on its own asyncio loop in a thread, so synchronous clients
(netmiko, scrapli, PyEZ) can talk to it from the test."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from turnup.lab.lab import Lab
from turnup.provisioning.drivers.base import ConsoleTarget


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningLab:
    def __init__(self, config: dict):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lab = self.call(lambda: Lab(config))
        self.run(self.lab.start())

    def run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function, *args):
        async def wrapper():
            return function(*args)

        return self.run(wrapper())

    def telnet_port(self, router: str) -> int:
        server, line = self.call(self.lab.line_of, router)
        return server.telnet_ports[line.number]

    def line(self, router: str):
        return self.call(self.lab.line_of, router)[1]

    def router(self, name: str):
        return self.lab.routers[name]

    def ssh_port(self, server: str = "cs1") -> int:
        return self.lab.servers[server].ssh_port

    def close(self) -> None:
        self.run(self.lab.stop())
        self.run(asyncio.sleep(0.1))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def console_target(
    lab: RunningLab, router: str, *, baud: int, method: str = "telnet", password: str = "cs-secret"
) -> ConsoleTarget:
    """The console path to ``router`` on the test lab's ``cs1``: its line's telnet port, or
    the console server's SSH service with the line in the user name."""
    line = lab.line(router).number
    if method == "ssh":
        return ConsoleTarget(
            host="127.0.0.1",
            port=lab.ssh_port(),
            method="ssh",
            username=f"admin:{line}",
            password=password,
            baud=baud,
            line=line,
            server="cs1",
        )
    return ConsoleTarget(
        host="127.0.0.1", port=lab.telnet_port(router), baud=baud, line=line, server="cs1"
    )


def lab_config(routers: list[dict], *, baud: int = 0, time_scale: float = 0.01, **extra) -> dict:
    """A one-console-server lab on ephemeral ports: line N+1 wired to routers[N]."""
    return {
        "name": "test",
        "time_scale": time_scale,
        "control": "127.0.0.1:0",
        "console_servers": [
            {
                "name": "cs1",
                "telnet_base": 0,
                "ssh_port": 0,
                "username": "admin",
                "password": "cs-secret",
                "baud": baud,
                "lines": {i + 1: {"router": r["name"]} for i, r in enumerate(routers)},
            }
        ],
        "routers": routers,
        **extra,
    }


@pytest.fixture
def running_lab():
    labs: list[RunningLab] = []

    def start(config: dict) -> RunningLab:
        lab = RunningLab(config)
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        lab.close()
