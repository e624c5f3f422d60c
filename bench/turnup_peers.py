"""Benchmark: one rendered bootstrap pushed over 9600-baud console lines to N factory-fresh
IOS-XE routers at once, by turnup's driver, by Nornir + nornir_netmiko and by plain netmiko
(prints JSON).

N lab routers (default 20) behind M console servers (default 2), wired as a site's design
says (a blueprint, ``site_lab_config``; console ports ephemeral so the bench can run beside
another lab), lab time scale 1 (boot, ``write memory`` 1.5 s, key generation as simulated).
Each router's bootstrap is the configs app's ``kind="bootstrap"`` render for that device —
the text the turn-up graph pushes. Each tool gets a fresh lab, and the clock starts once
every router has booted and sits at its first-boot prompt (routers racked and powered before
the turn-up; stock netmiko fails on a box that is still printing its boot log). Then all N
routers at once, reverse telnet to each router's console-server port:

1. **turnup**: ``IosXeDriver`` ``console_open`` → ``console_push`` → ``console_commit`` →
   ``write memory`` → ``console_close``, one thread per router (``ThreadPoolExecutor``), no
   Celery. ``console_commit`` does not save (the graph saves only after verifying the router
   over the management network), so to do the same work as the peers the bench then sends
   ``write memory`` on the driver's console channel and waits for ``[OK]`` and the prompt.
2. **Nornir** 3 (``threaded`` runner, ``num_workers=N``, ``SimpleInventory`` files in a temp
   folder) + nornir_netmiko: platform ``cisco_ios_telnet``, ``netmiko_send_config`` (all the
   bootstrap's non-blank lines as ``config_commands``) and ``netmiko_save_config``.
3. **netmiko**: ``ConnectHandler(device_type="cisco_ios_telnet")`` + ``send_config_set`` +
   ``save_config`` per router in a ``ThreadPoolExecutor`` of N threads.

Glue the peers need (the same for both; ``--no-glue`` leaves it all out):

* ``first_boot`` (~35 lines; Nornir runs it as a task of its own before the task that opens
  its netmiko connection): netmiko's ``cisco_ios_telnet`` login answers ``initial
  configuration dialog? [yes/no]`` with ``no`` itself and then waits for ``Press RETURN``,
  but it does not know the prompts IOS-XE 17 forces on a factory box — ``Enter enable
  secret:`` / ``Confirm enable secret:`` / ``Enter your selection [2]:`` (netmiko issue
  #3717) — and fails after ~43 s with ``NetmikoAuthenticationException``; it also waits out
  ``terminate autoinstall? [yes]`` (~39 s). So before the tool's own connection, the glue
  opens the same console port with netmiko's ``generic_termserver_telnet`` (no login, no
  session preparation), answers each prompt as it shows with ``write_channel`` /
  ``read_channel`` (``no``, ``yes``, the enable secret twice, ``0``, RETURN) until
  ``Router>``, and disconnects; the tool then connects with ``cisco_ios_telnet`` and
  ``secret=`` the answered enable secret, so its ``enable()`` works.
* ``set_base_prompt()`` on the connection between ``send_config_set`` and ``save_config``:
  the bootstrap changes the hostname, and netmiko's ``save_config`` otherwise waits for the
  old ``Router`` prompt until its 100 s read timeout.

Nothing else by default: no change to the config lines or to netmiko's timeouts, and console
logging left on, so the syslog lines the router prints in the middle of a session
(``%LINK-3-UPDOWN``, ``%SSH-5-ENABLED``, ``%SYS-5-CONFIG_I``) hit the peers as they hit
any netmiko user on a console (netmiko issue #3696). ``--quiet-console`` makes the first-boot
glue also send ``enable`` / ``no logging console`` (the routers keep that line).
``BENCH_SESSION_LOGS=<folder>`` writes the peers' netmiko session logs there.

``--factory`` picks the factory box: ``ios17`` (default: initial dialog, autoinstall prompt,
forced enable secret — IOS-XE 17) or ``dialog`` (the lab's default box, the one
bench/turnup.py turns up: the initial dialog only; stock netmiko gets through that alone).

Reported per tool: wall seconds for all N (first connection to last close), per router
(mean / max) login seconds (connect → privileged prompt, glue included), push seconds
(config mode → back at the prompt), save seconds, config bytes sent (each non-blank line
stripped + CR), the fraction of the line rate (bytes ÷ push seconds ÷ baud/10), the bytes
the lab dropped on the routers' input (overruns), and afterwards, from the lab's router
objects: how many routers carry every bootstrap line in their running config (the driver's
``missing_lines`` comparison: mode paths, secrets up to the keyword) and how many saved it;
errors by type, and which bootstrap lines were missing on how many routers.

In the flat list the peers send, ``ip route vrf …`` follows the ``interface GigabitEthernet0``
block: like IOS, the lab takes it in global configuration mode (it is ambiguous under an
interface), so the peers are not penalised for relying on that fallback.

    .venv/bin/python -m pip install -c constraints.txt -r bench/requirements.txt
    .venv/bin/python bench/turnup_peers.py --routers 20 --servers 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _turnup_site import (  # noqa: E402
    ENABLE_SECRET,
    LOCAL_PASSWORD,
    LOCAL_USER,
    approved_site,
    django_setup,
)

FACTORY = {
    "dialog": {"pnp_messages": False},
    "ios17": {"pnp_messages": False, "autoinstall_prompt": True, "enable_secret_prompt": True},
}


# -- the site, its bootstraps and a lab wired as it says ------------------------------------


def site_bootstraps(*, routers: int, servers: int, baud: int):
    """An approved site of ``routers`` IOS-XE routers behind ``servers`` console servers, and
    each router's rendered bootstrap (hostname → text)."""
    from turnup.configs.services import site_render

    site = approved_site(name="PEE-01", routers=routers, servers=servers, baud=baud)
    rendered = site_render(site=site, store=False)
    bad = [c.hostname for c in rendered.configs if not c.ok] + list(rendered.problems)
    if bad:
        raise SystemExit(f"bootstrap render failed for {bad}")
    return site, {c.hostname: c.text for c in rendered.configs if c.kind == "bootstrap"}


def lab_config_for(site, *, factory: str) -> dict:
    """The site's lab (``site_lab_config``) at time scale 1, every console port ephemeral on
    127.0.0.1, every router factory-fresh as ``factory`` says."""
    from turnup.lab.design import site_lab_config

    config = site_lab_config(site=site, time_scale=1.0)
    config["control"] = "127.0.0.1:0"
    for server in config["console_servers"]:
        server["host"] = "127.0.0.1"
        server["telnet_base"] = 0
        for line in server["lines"].values():
            line.pop("telnet_port", None)
    for router in config["routers"]:
        router["options"] = dict(FACTORY[factory])
    return config


class Lab:
    """A fresh lab from ``config`` (on its own loop thread) and what the bench reads of it."""

    def __init__(self, config: dict, *, boot_timeout: float = 60.0):
        from tests.lab.conftest import RunningLab

        self.running = RunningLab(config)
        self.names = [r["name"] for r in config["routers"]]
        deadline = time.monotonic() + boot_timeout
        while time.monotonic() < deadline:  # every router booted, at its first prompt
            states = self.running.call(
                lambda: [r.state() for r in self.running.lab.routers.values()]
            )
            if not {"off", "booting"} & set(states):
                break
            time.sleep(0.2)

    def port(self, name: str) -> tuple[str, int, int]:
        """(console server, line, telnet port) of router ``name``."""
        server, line = self.running.call(self.running.lab.line_of, name)
        return server.name, line.number, server.telnet_ports[line.number]

    def outcome(self, name: str, bootstrap: str) -> dict:
        """What router ``name`` ended with: bootstrap lines missing from its running config,
        whether it saved, the bytes its console line carried and dropped."""
        from turnup.provisioning.drivers.console import config_lines
        from turnup.provisioning.drivers.iosxe import missing_lines

        router = self.running.router(name)
        running = self.running.call(router.show_running)
        startup = self.running.call(lambda: router.startup or "")
        status = self.running.call(self.running.line(name).status)
        missing = missing_lines(config_lines(bootstrap), running)
        return {
            "missing": [line.text for line in missing],
            "saved": f"hostname {name}" in startup,
            "drops": status["drops"],
            "bytes_in": status["bytes_in"],
            "bytes_out": status["bytes_out"],
        }

    def close(self) -> None:
        self.running.close()


def config_commands(bootstrap: str) -> list[str]:
    """The bootstrap as a peer's ``config_commands``: every non-blank line, as rendered."""
    return [line for line in bootstrap.splitlines() if line.strip()]


def config_bytes(bootstrap: str) -> int:
    """Config bytes a tool sends for ``bootstrap``: each non-blank line stripped, plus CR."""
    return sum(len(line.strip()) + 1 for line in config_commands(bootstrap))


# -- the peers' glue ------------------------------------------------------------------------

FIRST_BOOT_ANSWERS = [
    (re.compile(r"\[yes/no\]:\s*$|answer 'yes' or 'no'\.?\s*$"), "no"),
    (re.compile(r"terminate autoinstall\?\s*\[yes\]:?\s*$"), "yes"),
    (re.compile(r"(?:Enter|Confirm) enable secret:\s*$"), None),  # the enable secret
    (re.compile(r"Enter your selection \[\d\]:\s*$"), "0"),  # IOS prompt, nothing saved
    (re.compile(r"RETURN to get started!?\s*$"), ""),
]
USER_PROMPT = re.compile(r"(?:^|\n)[^\s#>()]{1,63}[>#]\s*$")
ENABLE_PROMPT = re.compile(r"(?:^|\n)[^\s#>()]{1,63}#\s*$")
SAVED = re.compile(r"\[OK\][\s\S]*\n[^\s#>()]{1,63}#\s*$")


def first_boot(*, host: str, port: int, secret: str, quiet: bool, timeout: float = 120.0) -> None:
    """The glue: bring a factory-fresh IOS-XE box on a reverse-telnet port from its first-boot
    prompts to ``Router>`` with netmiko's raw terminal-server session (netmiko's
    ``cisco_ios_telnet`` login knows only the initial dialog), with ``quiet`` also turn
    console logging off, then let go of the line."""
    from netmiko import ConnectHandler

    conn = ConnectHandler(
        device_type="generic_termserver_telnet", host=host, port=port, username="", password=""
    )
    deadline = time.monotonic() + timeout

    def until(pattern: re.Pattern[str], answers: list) -> None:
        text, last = "", time.monotonic()
        while time.monotonic() < deadline:
            data = conn.read_channel()
            now = time.monotonic()
            if data:
                text, last = text + data, now
            tail = text[-300:]
            if pattern.search(tail):
                return
            answer = next((a for rx, a in answers if rx.search(tail)), False)
            if answer is not False:
                conn.write_channel((secret if answer is None else answer) + "\r")
                text, last = "", now
            elif now - last > 2.0:  # nothing we know and quiet: wake it up
                conn.write_channel("\r")
                last = now
            time.sleep(0.05)
        raise TimeoutError(f"no {pattern.pattern!r} on port {port} in the first-boot glue")

    try:
        conn.write_channel("\r")
        until(USER_PROMPT, FIRST_BOOT_ANSWERS)
        if quiet:
            conn.write_channel("enable\r")
            until(ENABLE_PROMPT, [(re.compile(r"Password:\s*$"), None)])
            conn.write_channel("configure terminal\rno logging console\rend\r")
            until(re.compile(r"#end\s*\n[^\s#>()]{1,63}#\s*$"), [])
    finally:
        conn.disconnect()


# -- the three tools ------------------------------------------------------------------------

SESSION_LOGS = os.environ.get("BENCH_SESSION_LOGS", "")  # a folder: the peers' netmiko logs


def _session_log(name: str) -> dict:
    return {"session_log": f"{SESSION_LOGS}/{name}.log"} if SESSION_LOGS else {}


def ours(lab: Lab, bootstraps: dict[str, str], *, baud: int, glue: bool, quiet: bool) -> list[dict]:
    """turnup's IOS-XE driver, one thread per router (``glue`` does not apply: the driver
    answers the first-boot prompts itself)."""
    from turnup.provisioning.drivers.base import ConsoleTarget, Credentials, ManagementTarget
    from turnup.provisioning.drivers.console import read_until
    from turnup.provisioning.drivers.iosxe import IosXeDriver

    def one(name: str) -> dict:
        server, line, port = lab.port(name)
        driver = IosXeDriver(
            console=ConsoleTarget(host="127.0.0.1", port=port, baud=baud, line=line, server=server),
            management=ManagementTarget(host="127.0.0.1"),
            credentials=Credentials(
                username=LOCAL_USER, password=LOCAL_PASSWORD, enable_secret=ENABLE_SECRET
            ),
            hostname=name,
        )
        row = {"router": name}
        try:
            mark = time.monotonic()
            driver.console_open()
            row["login"] = time.monotonic() - mark
            mark = time.monotonic()
            driver.console_push(bootstraps[name])
            row["push"] = time.monotonic() - mark
            mark = time.monotonic()
            driver.console_commit(confirm_minutes=10)
            # what the graph does later, over management: here on the driver's channel
            driver.channel.send("write memory\r")
            _, saved = read_until(driver.channel, SAVED, timeout=30)
            if saved is None:
                raise TimeoutError("no [OK] and prompt after write memory")
            row["save"] = time.monotonic() - mark
        except Exception as error:  # noqa: BLE001 - a bench reports every failure
            row["error"] = error
        finally:
            driver.console_close()
        return row

    with ThreadPoolExecutor(max_workers=len(bootstraps)) as pool:
        return list(pool.map(one, bootstraps))


def plain_netmiko(
    lab: Lab, bootstraps: dict[str, str], *, baud: int, glue: bool, quiet: bool
) -> list[dict]:
    """``ConnectHandler(cisco_ios_telnet)`` + ``send_config_set`` + ``save_config`` per
    router, in a ThreadPoolExecutor of N threads."""
    from netmiko import ConnectHandler

    def one(name: str) -> dict:
        _, _, port = lab.port(name)
        row, conn = {"router": name}, None
        try:
            mark = time.monotonic()
            if glue:
                first_boot(host="127.0.0.1", port=port, secret=ENABLE_SECRET, quiet=quiet)
            conn = ConnectHandler(
                device_type="cisco_ios_telnet",
                host="127.0.0.1",
                port=port,
                username="",
                password="",
                secret=ENABLE_SECRET,
                **_session_log(name),
            )
            conn.enable()
            row["login"] = time.monotonic() - mark
            mark = time.monotonic()
            conn.send_config_set(config_commands(bootstraps[name]))
            row["push"] = time.monotonic() - mark
            mark = time.monotonic()
            if glue:
                conn.set_base_prompt()  # the bootstrap changed the hostname
            conn.save_config()
            row["save"] = time.monotonic() - mark
        except Exception as error:  # noqa: BLE001 - a bench reports every failure
            row["error"] = error
        finally:
            if conn is not None:
                conn.disconnect()
        return row

    with ThreadPoolExecutor(max_workers=len(bootstraps)) as pool:
        return list(pool.map(one, bootstraps))


def nornir(
    lab: Lab, bootstraps: dict[str, str], *, baud: int, glue: bool, quiet: bool
) -> list[dict]:
    """Nornir (threaded runner, one worker per router, SimpleInventory) + nornir_netmiko's
    ``netmiko_send_config`` and ``netmiko_save_config``; the glue as a task of its own."""
    from nornir import InitNornir
    from nornir.core.task import Result, Task
    from nornir_netmiko.tasks import netmiko_save_config, netmiko_send_config

    def first_boot_task(task: Task) -> Result:
        extras = task.host.get_connection_parameters("netmiko").extras or {}
        first_boot(
            host=task.host.hostname, port=task.host.port, secret=extras["secret"], quiet=quiet
        )
        return Result(host=task.host)

    def bootstrap(task: Task) -> Result:
        timings = {}
        mark = time.monotonic()
        if glue:
            task.run(task=first_boot_task)
        task.host.get_connection("netmiko", task.nornir.config).enable()
        timings["login"] = time.monotonic() - mark
        mark = time.monotonic()
        task.run(task=netmiko_send_config, config_commands=task.host["bootstrap"])
        timings["push"] = time.monotonic() - mark
        mark = time.monotonic()
        if glue:  # the bootstrap changed the hostname: netmiko still waits for "Router"
            task.host.get_connection("netmiko", task.nornir.config).set_base_prompt()
        task.run(task=netmiko_save_config)
        timings["save"] = time.monotonic() - mark
        return Result(host=task.host, result=timings)

    hosts = {}
    for name, text in bootstraps.items():
        _, _, port = lab.port(name)
        hosts[name] = {
            "hostname": "127.0.0.1",
            "port": port,
            "username": "",
            "password": "",
            "platform": "cisco_ios_telnet",
            "connection_options": {
                "netmiko": {"extras": {"secret": ENABLE_SECRET, **_session_log(name)}}
            },
            "data": {"bootstrap": config_commands(text)},
        }
    with tempfile.TemporaryDirectory(prefix="bench-nornir-") as folder:
        host_file = Path(folder) / "hosts.yaml"
        host_file.write_text(json.dumps(hosts))  # JSON is YAML
        nr = InitNornir(
            runner={"plugin": "threaded", "options": {"num_workers": len(bootstraps)}},
            inventory={
                "plugin": "SimpleInventory",
                "options": {
                    "host_file": str(host_file),
                    "group_file": str(Path(folder) / "groups.yaml"),
                    "defaults_file": str(Path(folder) / "defaults.yaml"),
                },
            },
            logging={"enabled": False},
        )
        try:
            results = nr.run(task=bootstrap)
        finally:
            nr.close_connections()
    rows = []
    for name in bootstraps:
        multi = results[name]
        row = {"router": name}
        if multi.failed:
            failed = [r for r in multi if r.failed and r.exception is not None]
            # the innermost failure (a subtask's), not Nornir's wrapper around it
            row["error"] = failed[-1].exception if failed else RuntimeError("failed")
        else:
            row.update(multi[0].result)
        rows.append(row)
    return rows


TOOLS = {
    "turnup": ("turnup IosXeDriver (console writer), threads", ours),
    "nornir": ("Nornir 3.6 threaded + nornir_netmiko (cisco_ios_telnet)", nornir),
    "netmiko": (
        "netmiko ConnectHandler(cisco_ios_telnet) + send_config_set, threads",
        plain_netmiko,
    ),
}


def _stats(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"mean": round(sum(values) / len(values), 2), "max": round(max(values), 2)}


def measure(tool: str, site, bootstraps: dict[str, str], args) -> dict:
    """One tool on a fresh lab: all routers at once, then what each router ended with."""
    label, run = TOOLS[tool]
    lab = Lab(lab_config_for(site, factory=args.factory))
    try:
        started = time.monotonic()
        rows = run(lab, bootstraps, baud=args.baud, glue=not args.no_glue, quiet=args.quiet_console)
        wall = time.monotonic() - started
        time.sleep(0.5)  # the last echoes and prompts reach the lab's state
        ends = {name: lab.outcome(name, text) for name, text in bootstraps.items()}
    finally:
        lab.close()
    rate = args.baud / 10
    pushed = [r for r in rows if "push" in r]
    fractions = [config_bytes(bootstraps[r["router"]]) / r["push"] / rate for r in pushed]
    errors = Counter(type(r["error"]).__name__ for r in rows if "error" in r)
    first_error = next((r for r in rows if "error" in r), None)
    return {
        "tool": label,
        "wall_seconds": round(wall, 2),
        "routers": len(rows),
        "full_config": sum(1 for e in ends.values() if not e["missing"]),
        "saved": sum(1 for e in ends.values() if e["saved"]),
        "login_seconds": _stats([r["login"] for r in rows if "login" in r]),
        "push_seconds": _stats([r["push"] for r in pushed]),
        "save_seconds": _stats([r["save"] for r in rows if "save" in r]),
        "router_seconds_without_errors": _stats(
            [r["login"] + r["push"] + r["save"] for r in rows if "save" in r]
        ),
        "config_bytes_per_router": round(
            sum(config_bytes(t) for t in bootstraps.values()) / len(bootstraps)
        ),
        "line_rate_fraction": (
            {"mean": round(sum(fractions) / len(fractions), 3), "min": round(min(fractions), 3)}
            if fractions
            else None
        ),
        "console_bytes_in_per_router": round(sum(e["bytes_in"] for e in ends.values()) / len(ends)),
        "console_bytes_out_per_router": round(
            sum(e["bytes_out"] for e in ends.values()) / len(ends)
        ),
        "dropped_bytes": sum(e["drops"] for e in ends.values()),
        "errors": dict(errors),
        "first_error": (
            f"{first_error['router']}: {str(first_error['error']).strip()[:300]}"
            if first_error
            else None
        ),
        # routers lacking each missing line (its first three words, values as N)
        "missing_lines": dict(
            Counter(
                re.sub(r"\S*\d\S*", "N", " ".join(line.split()[:3]))
                for e in ends.values()
                for line in e["missing"]
            )
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", type=int, default=20)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--factory", choices=sorted(FACTORY), default="ios17")
    parser.add_argument("--no-glue", action="store_true", help="the peers without glue")
    parser.add_argument(
        "--quiet-console",
        action="store_true",
        help="the peers' glue also turns console logging off (no logging console)",
    )
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help=f"comma-separated, of {', '.join(TOOLS)}"
    )
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")

    logging.getLogger("nornir").setLevel(logging.CRITICAL)  # its failures are in the JSON
    django_setup(Path(tempfile.mkdtemp(prefix="bench-peers-")))
    site, bootstraps = site_bootstraps(routers=args.routers, servers=args.servers, baud=args.baud)
    results = [measure(tool, site, bootstraps, args) for tool in tools]
    print(
        json.dumps(
            {
                "bench": "turnup_peers",
                "routers": args.routers,
                "console_servers": args.servers,
                "baud": args.baud,
                "line_rate_bytes_per_second": args.baud / 10,
                "factory": args.factory,
                "factory_options": FACTORY[args.factory],
                "peer_glue": not args.no_glue,
                "peer_quiet_console": args.quiet_console and not args.no_glue,
                "bootstrap_lines": len(config_commands(next(iter(bootstraps.values())))),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
