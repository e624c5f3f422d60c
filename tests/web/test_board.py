"""The board's state is a pure function of the run and its steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from turnup.web.board import RunData, StepData, board_state

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def steps(device_id: int, name: str, statuses: list[str], **extra) -> list[StepData]:
    names = ["claim_line", "wake", "login", "bootstrap", "commit_confirmed", "verify"]
    out = []
    for order, (step, status) in enumerate(zip(names, statuses, strict=False)):
        fields = {}
        if status != "pending":
            fields["started"] = T0 + timedelta(seconds=order)
        if status in ("succeeded", "failed"):
            fields["finished"] = T0 + timedelta(seconds=order + 1)
        fields.update(extra.get(step, {}))
        out.append(StepData(device_id, name, step, status, order=order, **fields))
    return out


def test_board_shows_progress_of_the_console_push_and_results():
    run = RunData(
        id=7,
        status="running",
        started=T0,
        steps=tuple(
            steps(1, "r1", ["succeeded"] * 6)
            + steps(
                2,
                "r2",
                ["succeeded", "succeeded", "succeeded", "running", "pending", "pending"],
                bootstrap={
                    "bytes_sent": 750,
                    "bytes_total": 3000,
                    "baud": 9600,
                    "log": "r2(config)# hostname r2\nr2(config)# interface mgmt",
                    "phases": (("bootstrap", 2.25), ("claim_line", 0.01), ("wake_login", 3.0)),
                },
            )
            + steps(
                3,
                "r3",
                ["succeeded", "failed", "pending", "pending", "pending", "pending"],
                wake={"error": "no answer on the line", "attempts": 3},
            )
        ),
    )
    state = board_state(run, now=T0 + timedelta(seconds=95))
    r1, r2, r3 = state["devices"]
    assert (r1["status"], r1["percent"], r1["status_label"]) == ("succeeded", 100.0, "Live")
    assert r2["status"] == "running" and r2["step"] == "bootstrap"
    assert r2["percent"] == 25.0 and r2["line_rate"] == 960
    assert r2["bytes_text"] == "750 / 3000 B · ~2s left at 9600 baud"
    assert r2["phases_text"] == "claim 0.0s · wake+login 3.0s · push 2.2s"
    assert r2["log_tail"][-1] == "r2(config)# interface mgmt"
    assert r2["elapsed_text"] == "1m 35s"
    assert r3["status"] == "failed"
    assert "no answer on the line" in r3["result"] and "after 3 attempts" in r3["result"]
    assert state["run"]["counts_text"] == "1/3 live · 1 running · 1 failed"
    assert state["run"]["terminal"] is False


def test_a_push_not_started_says_what_it_will_cost():
    run = RunData(
        id=2,
        status="running",
        started=T0,
        steps=tuple(steps(1, "r1", ["running"], claim_line={"bytes_total": 4800, "baud": 9600})),
    )
    [device] = board_state(run, now=T0)["devices"]
    assert device["bytes_text"] == "4800 B to push (~5s at 9600 baud)"


def test_a_finished_run_stops_its_clock():
    run = RunData(
        id=1,
        status="succeeded",
        started=T0,
        finished=T0 + timedelta(seconds=42),
        steps=tuple(steps(1, "r1", ["succeeded"] * 6)),
    )
    state = board_state(run, now=T0 + timedelta(hours=1))
    assert state["run"]["elapsed_text"] == "42s" and state["run"]["terminal"] is True
    assert state["devices"][0]["elapsed_text"] == "6s"
    assert state["run"]["status_label"] == "Succeeded"
    assert state["devices"][0]["status_label"] == "Live"


def test_a_live_router_whose_running_config_lacks_statements_says_so():
    lacking = "1 of 40 rendered statements are not in the running config: ntp server 192.0.2.1"
    run = RunData(
        id=3,
        status="succeeded",
        started=T0,
        finished=T0 + timedelta(seconds=9),
        steps=tuple(
            steps(1, "r1", ["succeeded"] * 6, verify={"finding": lacking})
            + steps(2, "r2", ["succeeded"] * 6)
        ),
    )
    r1, r2 = board_state(run, now=T0 + timedelta(seconds=9))["devices"]
    assert r1["status"] == "succeeded" and r1["finding"] is True
    assert r1["result"] == f"live — 6 steps verified · {lacking}"
    assert r2["result"] == "live — 6 steps verified" and r2["finding"] is False
