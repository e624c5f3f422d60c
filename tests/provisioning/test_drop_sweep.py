"""A console session cut at any byte of a bootstrap — in the login, the push or the commit —
twice in a row, and then a session that runs to the end: what a dropped line or a worker
killed at any moment leaves behind must be taken up. Every cut session ends in a reason the
step retries (never ``no_answer`` or a transport error), soon, and the next session finishes
the bootstrap. Over the console server's telnet ports and over its SSH service. This sweep
found the Junos wake answering `cli` to the configuration prompt of a session cut after its
commit, until it gave up; over SSH, netmiko waiting 12 s for the echo on a closed channel."""

from __future__ import annotations

import time
from functools import partial

import pytest

from tests.lab.conftest import RunningLab, lab_config
from turnup.provisioning.drivers.base import DriverError, LineBusy, LineDropped

pytestmark = pytest.mark.slow

# Bytes crossing the line (both directions) in one session: ~2,700 for the IOS-XE bootstrap
# below (its console's boot text included), ~2,700 for the Junos one. A cut every 270 bytes
# lands in each phase.
CUTS = range(120, 2900, 270)
BAUD = 115200  # the cut points are bytes: a fast line keeps the sweep short
# netmiko's reads time out after 10 s: a cut session that took that long waited for a timeout
# instead of noticing the drop (a wake from any state takes up to ~4 s at this time scale)
CUT_SESSION_SECONDS = 10


def _ios():
    from tests.provisioning.test_driver_iosxe import BOOTSTRAP, driver

    spec = {"name": "r1", "platform": "cisco_iosxe", "options": {"pnp_messages": False}}
    aaa = "aaa new-model\naaa authentication login default local\n"
    return spec, BOOTSTRAP + aaa, "R1", driver, ("admin", "Admin12345")


def _junos():
    from tests.provisioning.test_driver_junos import BOOTSTRAP, PASSWORD, driver

    return {"name": "j1", "platform": "juniper_junos"}, BOOTSTRAP, "j1", driver, ("admin", PASSWORD)


def _cut_after(lab: RunningLab, router: str, cut: int | None) -> None:
    lab.call(partial(lab.lab.set_faults, {"drop_after_bytes": cut}, router=router))


def _session(engine, config: str, hostname: str) -> None:
    engine.wake_timeout = 20
    engine.retrying = True  # each session after a cut one takes it up, as the step's retry
    try:
        state = engine.console_open()
        engine.console_push(config, resume=state.hostname == hostname)
        engine.console_commit(confirm_minutes=30)
    finally:
        engine.console_close()


@pytest.mark.parametrize("method", ["telnet", "ssh"])
@pytest.mark.parametrize("make_platform", [_ios, _junos], ids=["iosxe", "junos"])
def test_a_bootstrap_cut_anywhere_is_finished_by_the_next_session(make_platform, method):
    spec, config, hostname, make_driver, (user, password) = make_platform()
    said: dict[int, list[str]] = {}
    slow: dict[int, float] = {}
    for cut in CUTS:
        # router delays at 1/20: the commit confirmed 30 rolls back after 90 s, not during the
        # sweep (a rollback would hide a wake that does not find its way out of a state)
        lab = RunningLab(lab_config([spec], baud=BAUD, time_scale=0.05))
        try:
            name = spec["name"]
            outcomes = said.setdefault(cut, [])
            for _ in range(2):
                _cut_after(lab, name, cut)
                started = time.monotonic()
                try:
                    _session(make_driver(lab, baud=BAUD, method=method), config, hostname)
                    outcomes.append("done")  # the cut fell after the session's last byte
                except (LineDropped, LineBusy) as error:
                    outcomes.append(error.reason)
                except DriverError as error:
                    outcomes.append(f"{error.reason}: {error.message}")
                if time.monotonic() - started > CUT_SESSION_SECONDS:
                    slow[cut] = round(time.monotonic() - started, 1)
            _cut_after(lab, name, None)
            _session(make_driver(lab, baud=BAUD, method=method), config, hostname)
            assert lab.router(name).hostname == hostname, (cut, outcomes)
            # and nothing a cut session left half typed was run: the user's secret is the
            # rendered one
            assert lab.router(name).check_login(user, password), (cut, outcomes)
        finally:
            lab.close()
    unexpected = {
        cut: outcomes
        for cut, outcomes in said.items()
        if any(o not in ("done", "line_dropped", "line_busy") for o in outcomes)
    }
    assert not unexpected, unexpected
    assert not slow, f"cut sessions that waited for a timeout (cut: seconds): {slow}"
    # the sweep did cut sessions in every phase, not only in the login
    assert sum(o == "line_dropped" for outcomes in said.values() for o in outcomes) >= 10
