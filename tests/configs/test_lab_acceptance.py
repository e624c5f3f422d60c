"""Every golden config is accepted, line by line, by the lab's IOS-XE and Junos models (which
answer ``% Invalid input`` / ``syntax error`` for what they do not know), so what turn-up
pushes is real, common syntax."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from turnup.lab import iosxe
from turnup.lab.device import Clock, RouterSpec
from turnup.lab.junos_config import Node, parse_set_lines

GOLDEN = Path(__file__).parent / "golden"


class _Sink:
    def write(self, data) -> None:
        pass

    def hangup(self) -> None:
        pass


def ios_rejected(text: str) -> list[tuple[str, str]]:
    async def run() -> list[tuple[str, str]]:
        names = [line.split()[1] for line in text.splitlines() if line.startswith("interface ")]
        spec = RouterSpec(name="R", platform="cisco_iosxe", interfaces=names)
        router = iosxe.IosXeRouter(spec, Clock(time_scale=0.0001))
        session = iosxe.IosSession(router, _Sink(), vty=None, privilege=15)
        session.mode, session.modes, session.path = "config", ["config"], []
        rejected = []
        for line in text.splitlines():
            if session.banner is not None:
                session.feed((line + "\r").encode())
                continue
            try:
                session.config_command(line)
            except iosxe.IosError as error:
                rejected.append((line, str(error.args)))
        return rejected

    return asyncio.run(run())


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("cisco_iosxe/*")), ids=lambda p: p.name)
def test_lab_iosxe_accepts_every_line(path):
    assert ios_rejected(path.read_text()) == []


def test_lab_iosxe_check_does_reject_unknown_lines():
    assert [line for line, _ in ios_rejected("hostname R\nfrobnicate all\n")] == ["frobnicate all"]


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("juniper_junos/*")), ids=lambda p: p.name)
def test_lab_junos_accepts_every_set_line(path):
    errors = parse_set_lines(path.read_text(), Node())
    assert [(e.line, e.word, e.message) for e in errors] == []


def test_lab_junos_check_does_reject_unknown_statements():
    errors = parse_set_lines("set system host-name R\nset system frobnicate yes\n", Node())
    assert [e.line for e in errors] == [2]
