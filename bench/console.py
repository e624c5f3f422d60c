"""Benchmark: pushing config over a 9600-baud console line, ours against the stock tools
(prints JSON).

One lab router per measurement, each on its own console-server line at ``--baud`` (the lab
paces both directions and overruns a full input buffer). The same config text is pushed by:

Our drivers run twice: through the console server's telnet port and through its SSH service.

* IOS-XE: our driver (console writer, prompts off) vs netmiko ``send_config_set``
  (``cisco_ios_telnet``: line, wait for echo and prompt, next line);
* Junos: our driver (``load set terminal`` through the console writer) vs Junos PyEZ console
  mode (``Device(mode="telnet")``, ``Config.load(format="set")``) vs netmiko
  ``juniper_junos_telnet`` ``send_config_set``.

Reported per tool: login seconds, push bytes, push seconds, bytes/s and the fraction of the
raw line rate (baud / 10 bytes/s), and the bytes the lab dropped (overruns). Nornir's
``netmiko_send_config`` calls the same ``send_config_set`` per host, so on one line it is
netmiko's number (Nornir adds parallelism across lines, which the graph has too).

    .venv/bin/python bench/console.py --baud 9600 --lines 200
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lab.conftest import RunningLab, console_target, lab_config  # noqa: E402
from tests.lab.test_junos import ROOT_HASH  # noqa: E402
from turnup.provisioning.drivers.base import (  # noqa: E402
    Credentials,
    ManagementTarget,
)
from turnup.provisioning.drivers.iosxe import IosXeDriver  # noqa: E402
from turnup.provisioning.drivers.junos import JunosDriver  # noqa: E402

PASSWORD = "Hello world!"


def ios_config(lines: int) -> str:
    out = ["hostname R1"]
    i = 0
    while len(out) < lines:
        i += 1
        out += [
            f"interface Loopback{i}",
            f" description bench loopback {i} to LON-01-edge-{i % 7} xe-0/0/{i % 48}",
            f" ip address 10.{i // 250}.{i % 250}.1 255.255.255.255",
        ]
    return "\n".join(out[:lines]) + "\n"


def junos_config(lines: int) -> str:
    out = [
        "set system host-name j1",
        f'set system root-authentication encrypted-password "{ROOT_HASH}"',
    ]
    i = 0
    while len(out) < lines:
        i += 1
        out.append(
            f"set interfaces lo0 unit {i} description "
            f'"bench unit {i} to LON-01-edge-{i % 7} xe-0/0/{i % 48}"'
        )
    return "\n".join(out[:lines]) + "\n"


def result(name, login, nbytes, seconds, baud, drops, **extra):
    rate = nbytes / seconds if seconds else 0.0
    return {
        "tool": name,
        "login_seconds": round(login, 2),
        "bytes": nbytes,
        "seconds": round(seconds, 2),
        "bytes_per_second": round(rate, 1),
        "line_rate_fraction": round(rate / (baud / 10), 3) if baud else None,
        "dropped_bytes": drops,
        **extra,
    }


def ours_ios(baud: int, text: str, method: str = "telnet") -> dict:
    lab = RunningLab(lab_config([{"name": "r1", "platform": "cisco_iosxe"}], baud=baud))
    try:
        driver = IosXeDriver(
            console=console_target(lab, "r1", baud=baud, method=method),
            management=ManagementTarget(host="127.0.0.1"),
            credentials=Credentials(username="admin", password="Admin12345"),
            hostname="R1",
        )
        start = time.monotonic()
        driver.console_open()
        login = time.monotonic() - start
        pushed = driver.console_push(text)
        driver.console_close()
        return result(
            "turnup IOS-XE (console writer)" + (", console over SSH" if method == "ssh" else ""),
            login,
            pushed.bytes,
            pushed.wire_seconds,
            baud,
            lab.line("r1").drops,
            step_seconds=round(pushed.seconds, 2),
            repairs=pushed.repairs,
        )
    finally:
        lab.close()


def netmiko_ios(baud: int, text: str) -> dict:
    from netmiko import ConnectHandler

    lab = RunningLab(lab_config([{"name": "r1", "platform": "cisco_iosxe"}], baud=baud))
    try:
        start = time.monotonic()
        conn = ConnectHandler(
            device_type="cisco_ios_telnet",
            host="127.0.0.1",
            port=lab.telnet_port("r1"),
            username="",
            password="",
            secret="",
        )
        conn.enable()
        login = time.monotonic() - start
        commands = [line for line in text.splitlines() if line.strip()]
        start = time.monotonic()
        conn.send_config_set(commands, read_timeout=600)
        seconds = time.monotonic() - start
        conn.disconnect()
        nbytes = sum(len(c.strip()) + 1 for c in commands)
        return result(
            "netmiko send_config_set (cisco_ios_telnet)",
            login,
            nbytes,
            seconds,
            baud,
            lab.line("r1").drops,
        )
    finally:
        lab.close()


def ours_junos(baud: int, text: str, method: str = "telnet") -> dict:
    lab = RunningLab(lab_config([{"name": "j1", "platform": "juniper_junos"}], baud=baud))
    try:
        driver = JunosDriver(
            console=console_target(lab, "j1", baud=baud, method=method),
            management=ManagementTarget(host="127.0.0.1"),
            credentials=Credentials(username="admin", password=PASSWORD, root_password=PASSWORD),
            hostname="j1",
        )
        start = time.monotonic()
        driver.console_open()
        login = time.monotonic() - start
        pushed = driver.console_push(text)
        driver.console_close()
        return result(
            "turnup Junos (load set terminal, console writer)"
            + (", console over SSH" if method == "ssh" else ""),
            login,
            pushed.bytes,
            pushed.wire_seconds,
            baud,
            lab.line("j1").drops,
            step_seconds=round(pushed.seconds, 2),
        )
    finally:
        lab.close()


def pyez_junos(baud: int, text: str) -> dict:
    from jnpr.junos import Device
    from jnpr.junos.utils.config import Config

    lab = RunningLab(lab_config([{"name": "j1", "platform": "juniper_junos"}], baud=baud))
    try:
        start = time.monotonic()
        dev = Device(
            host="127.0.0.1",
            port=lab.telnet_port("j1"),
            mode="telnet",
            user="root",
            passwd="",
            baud=baud,
        )
        dev.open()
        login = time.monotonic() - start
        start = time.monotonic()
        Config(dev).load(text, format="set")
        seconds = time.monotonic() - start
        dev.close()
        return result(
            "Junos PyEZ console mode (Config.load set)",
            login,
            len(text),
            seconds,
            baud,
            lab.line("j1").drops,
        )
    finally:
        lab.close()


def netmiko_junos(baud: int, text: str) -> dict:
    from netmiko import ConnectHandler

    # netmiko's telnet login knows the "root@:~ # " shell prompt, not csh's "root@:RE:0% ".
    junos = {"name": "j1", "platform": "juniper_junos", "options": {"shell": "sh"}}
    lab = RunningLab(lab_config([junos], baud=baud))
    try:
        start = time.monotonic()
        conn = ConnectHandler(
            device_type="juniper_junos_telnet",
            host="127.0.0.1",
            port=lab.telnet_port("j1"),
            username="root",
            password="",
        )
        login = time.monotonic() - start
        commands = [line for line in text.splitlines() if line.strip()]
        start = time.monotonic()
        conn.send_config_set(commands, exit_config_mode=False, read_timeout=600)
        seconds = time.monotonic() - start
        conn.disconnect()
        return result(
            "netmiko send_config_set (juniper_junos_telnet)",
            login,
            len(text),
            seconds,
            baud,
            lab.line("j1").drops,
        )
    finally:
        lab.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--only", choices=["ios", "junos"], default=None)
    args = parser.parse_args()
    ios, junos = ios_config(args.lines), junos_config(args.lines)
    runs = []
    if args.only in (None, "ios"):
        runs += [
            ours_ios(args.baud, ios),
            ours_ios(args.baud, ios, method="ssh"),
            netmiko_ios(args.baud, ios),
        ]
    if args.only in (None, "junos"):
        runs += [
            ours_junos(args.baud, junos),
            ours_junos(args.baud, junos, method="ssh"),
            pyez_junos(args.baud, junos),
            netmiko_junos(args.baud, junos),
        ]
    print(
        json.dumps(
            {
                "benchmark": "console push",
                "baud": args.baud,
                "line_rate_bytes_per_second": args.baud / 10,
                "config_lines": args.lines,
                "ios_bytes": len(ios),
                "junos_bytes": len(junos),
                "results": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
