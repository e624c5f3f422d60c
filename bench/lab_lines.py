"""Lab capacity: N routers in one lab process, and the line rate with M lines busy at once.

    .venv/bin/python bench/lab_lines.py [--routers 500] [--busy 100] [--baud 9600] [--seconds 10]

Prints JSON: the lab process's RSS with all routers booted, and the output rate each busy line
delivered to its telnet client (measured over TCP in a separate client process, bytes per
second over a window after warm-up) compared with the configured baud (8N1: baud/10 B/s).
Each client keeps two ``show running-config`` commands typed ahead, so the router always has
output to send and the line, not the client, sets the pace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from turnup.lab.lab import Lab  # noqa: E402

STARTUP = "hostname BENCH\n!\ninterface Loopback0\n ip address 192.0.2.1 255.255.255.255\n!\n"


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _client(port: int, warmup: float, seconds: float, result: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\r\r")
    await asyncio.sleep(0.3)
    writer.write(b"enable\rterminal length 0\r")
    buffer = b""
    while b"BENCH#" not in buffer:
        buffer += await reader.read(65536)
    writer.write(b"show running-config\r" * 2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    counted = 0
    window_start = start + warmup
    window_end = window_start + seconds
    tail = b""
    while loop.time() < window_end:
        data = await reader.read(65536)
        if not data:
            break
        now = loop.time()
        if now >= window_start:
            counted += len(data)
        prompts = (tail + data).count(b"\nBENCH#")
        tail = data[-8:]
        if prompts:
            writer.write(b"show running-config\r" * prompts)
    result.append(counted / seconds)
    writer.close()


def client_process(ports: list[int], warmup: float, seconds: float, queue) -> None:
    async def main():
        rates: list[float] = []
        await asyncio.gather(*(_client(p, warmup, seconds, rates) for p in ports))
        return rates

    queue.put(asyncio.run(main()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--routers", type=int, default=500)
    parser.add_argument("--busy", type=int, default=100)
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--factory", action="store_true", help="idle routers factory-fresh (bigger config)"
    )
    args = parser.parse_args()

    rss_before = rss_mb()
    config = {
        "name": "bench",
        "time_scale": 0.01,
        "control": "127.0.0.1:0",
        "console_servers": [
            {
                "name": "cs1",
                "telnet_base": 0,
                "baud": args.baud,
                "lines": {i + 1: f"r{i + 1}" for i in range(args.routers)},
            }
        ],
        "routers": [
            {
                "name": f"r{i + 1}",
                "platform": "cisco_iosxe",
                "startup_config": None if args.factory and i >= args.busy else STARTUP,
                "options": {"pnp_messages": False},
            }
            for i in range(args.routers)
        ],
    }
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    built = time.perf_counter()

    async def build():
        lab = Lab(config)
        await lab.start()
        return lab

    lab = asyncio.run_coroutine_threadsafe(build(), loop).result()
    started = time.perf_counter() - built
    time.sleep(1.0)  # boot (time-scaled)
    states = {r.state() for r in lab.routers.values()}
    rss_lab = rss_mb()
    ports = [lab.servers["cs1"].telnet_ports[i + 1] for i in range(args.busy)]

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    queue = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(
        target=client_process, args=(ports, args.warmup, args.seconds, queue)
    )
    process.start()
    rates = queue.get(timeout=args.warmup + args.seconds + 60)
    process.join(10)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    busy_wall = args.warmup + args.seconds
    cpu_busy = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    rss_busy = rss_mb()
    asyncio.run_coroutine_threadsafe(lab.stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)

    line_rate = args.baud / 10
    print(
        json.dumps(
            {
                "routers": args.routers,
                "start_seconds": round(started, 2),
                "router_states": sorted(states),
                "rss_mb_before": round(rss_before, 1),
                "rss_mb_with_routers": round(rss_lab, 1),
                "rss_mb_after_busy": round(rss_busy, 1),
                "rss_kb_per_router": round((rss_lab - rss_before) * 1024 / args.routers, 1),
                "busy_lines": len(rates),
                "baud": args.baud,
                "configured_bytes_per_second": line_rate,
                "measured_bytes_per_second": {
                    "mean": round(statistics.mean(rates), 1),
                    "min": round(min(rates), 1),
                    "max": round(max(rates), 1),
                },
                "lab_cpu_fraction_while_busy": round(cpu_busy / busy_wall, 3),
                "mean_rate_vs_configured": round(statistics.mean(rates) / line_rate, 4),
                "min_rate_vs_configured": round(min(rates) / line_rate, 4),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
