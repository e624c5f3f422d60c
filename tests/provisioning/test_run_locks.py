"""Console-line locks, the per-console-server cap, time limits, settling and recovery —
the run machinery without a worker or a lab."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tests.provisioning.conftest import approved_site


@pytest.fixture
def run(storage, enqueued):
    from turnup.provisioning.services import run_start

    started = run_start(site=approved_site("LCK-01", edges=2))
    started.sent = enqueued
    return started


def _bootstraps(run):
    return list(run.steps.filter(name="bootstrap").select_related("device").order_by("stage"))


def _target(step):
    from turnup.provisioning.services import device_targets

    return device_targets(device=step.device).console


class _ManagementDriver:
    """A management session that opens at once and records how each close left it
    (``keep``: parked for the router's next step)."""

    def __init__(self) -> None:
        self.closed: list[bool] = []

    def mgmt_open(self) -> None:
        pass

    def mgmt_close(self, *, keep: bool = False) -> None:
        self.closed.append(keep)


@pytest.mark.django_db
def test_one_session_per_line_and_a_stale_lock_is_taken_over(run):
    from turnup.provisioning.drivers.base import LineBusy
    from turnup.provisioning.models import ConsoleLineLock
    from turnup.provisioning.services import _line_claim

    first, second, _ = _bootstraps(run)
    console = _target(first)
    lock = _line_claim(first, console, limit=5)
    assert _line_claim(first, console, limit=5).pk == lock.pk, "the holder takes it again"
    with pytest.raises(LineBusy, match=f"run {run.pk}"):
        _line_claim(second, console, limit=5)  # same line, another step
    ConsoleLineLock.objects.filter(pk=lock.pk).update(expires_at=timezone.now())
    assert _line_claim(second, console, limit=5).step_id == second.pk


@pytest.mark.django_db
def test_the_console_server_session_cap_makes_steps_wait(run, monkeypatch):
    from turnup.provisioning import services
    from turnup.provisioning.drivers.base import LineBusy

    monkeypatch.setattr(services, "CONSOLE_SERVER_SESSIONS", 1)
    monkeypatch.setattr(services, "POLL_SECONDS", 0.05)
    first, second, third = _bootstraps(run)
    held = services._line_claim(first, _target(first), limit=5)
    with pytest.raises(LineBusy, match="session limit"):
        services._line_claim(second, _target(second), limit=0.3)
    services.lease_release(services.ConsoleLineLock, pk=held.pk)
    assert services._line_claim(third, _target(third), limit=0.3).step_id == third.pk


def test_time_limits_come_from_bytes_and_line_rate():
    from turnup.provisioning.services import (
        CONSOLE_COMMIT_SECONDS,
        CONSOLE_LOGIN_SECONDS,
        confirm_minutes,
        step_time_limit,
    )

    slow = step_time_limit(name="bootstrap", bytes_total=9600, baud=9600)
    fast = step_time_limit(name="bootstrap", bytes_total=9600, baud=115200)
    allowances = CONSOLE_LOGIN_SECONDS + CONSOLE_COMMIT_SECONDS
    assert slow - allowances == pytest.approx(2 * 9600 / 960)
    assert fast - allowances == pytest.approx(2 * 9600 / 11520)
    assert step_time_limit(name="full_config", bytes_total=40_000, baud=0) > step_time_limit(
        name="full_config", bytes_total=4_000, baud=0
    )
    assert confirm_minutes(full_bytes=200_000) > confirm_minutes(full_bytes=2_000) >= 5


def test_verification_may_take_the_lldp_wait_and_the_safety_net_covers_it(settings):
    from turnup.provisioning.services import confirm_minutes, step_time_limit

    settings.TURNUP_LLDP_WAIT_SECONDS = 0
    verify, minutes = (
        step_time_limit(name="verify", bytes_total=0, baud=0),
        confirm_minutes(full_bytes=400_000),
    )
    archive = step_time_limit(name="archive", bytes_total=0, baud=0)
    settings.TURNUP_LLDP_WAIT_SECONDS = 120
    assert step_time_limit(name="verify", bytes_total=0, baud=0) == verify + 120
    assert step_time_limit(name="archive", bytes_total=0, baud=0) == archive
    assert confirm_minutes(full_bytes=400_000) == minutes + 2


def test_a_step_past_its_limit_is_cut_and_recorded_as_timeout():
    from turnup.provisioning.services import StepTimeout, _limited

    closed = threading.Event()

    def body():
        if not closed.wait(5):
            raise AssertionError("the watchdog never closed the session")
        from turnup.provisioning.drivers.base import LineDropped

        raise LineDropped("the session was closed")

    class FakeStep:
        pk = 0
        name = "bootstrap"

    import turnup.provisioning.services as services

    original = services._progress
    services._progress = lambda *a, **k: None
    try:
        started = time.monotonic()
        with pytest.raises(StepTimeout, match="0 s limit") as error:
            _limited(FakeStep(), 0.2, closed.set, body)
        assert error.value.reason == "timeout"
        assert time.monotonic() - started < 3
    finally:
        services._progress = original


@pytest.mark.django_db
def test_graph_is_a_chord_a_stage_and_a_task_a_session(run):
    """Core before edge; each router a chain of two tasks: its console step alone, then its
    management steps in order (they share one SSH/NETCONF session in one worker)."""
    from turnup.provisioning.workflows import site_turnup_graph

    names = dict(run.steps.values_list("pk", "name"))
    devices = dict(run.steps.values_list("pk", "device__name"))
    graph = site_turnup_graph(run)
    stages = [graph.tasks[0], graph.tasks[1]]
    assert [stage.body.task for stage in stages] == [
        "provisioning.stage_done",
        "provisioning.settle",
    ]
    routers = []
    for stage in stages:
        for router in stage.tasks:
            tasks = [(t.task, [names[i] for i in t.kwargs["step_ids"]]) for t in router.tasks]
            assert tasks == [
                ("provisioning.steps", ["bootstrap"]),
                ("provisioning.steps", ["full_config", "verify", "confirm", "archive"]),
            ]
            routers.append(devices[router.tasks[0].kwargs["step_ids"][0]])
    assert routers == ["lck-01-cr1", "lck-01-er1", "lck-01-er2"]


@pytest.mark.django_db
def test_settle_is_idempotent_and_names_what_failed(run):
    from turnup.dcim.models import Site
    from turnup.provisioning.models import Step
    from turnup.provisioning.services import run_settle

    Step.objects.filter(run=run).update(status="done")
    failing = _bootstraps(run)[1]
    Step.objects.filter(pk=failing.pk).update(status="failed", reason="no_answer", message="silent")
    Step.objects.filter(run=run, device=failing.device).exclude(pk=failing.pk).update(
        status="skipped", reason="earlier_step_failed"
    )
    summary = run_settle(run_id=run.pk)
    assert summary["failed"] == [failing.device.name]
    entry = summary["devices"][failing.device.name]
    assert (entry["step"], entry["reason"], entry["message"]) == (
        "bootstrap",
        "no_answer",
        "silent",
    )
    assert Site.objects.get(pk=run.site_id).status == "failed"
    assert run_settle(run_id=run.pk) == summary
    assert summary["findings"] == {}


@pytest.mark.django_db
def test_settle_lists_the_archives_findings(run):
    from turnup.dcim.models import Site
    from turnup.provisioning.models import Step
    from turnup.provisioning.services import run_settle

    Step.objects.filter(run=run).update(status="done", result={"compliant": True})
    drifted = Step.objects.filter(run=run, name="archive").order_by("device__name").first()
    missing = ["router ospf 1 > router-id 10.0.0.1"]
    Step.objects.filter(pk=drifted.pk).update(result={"compliant": False, "missing": missing})
    summary = run_settle(run_id=run.pk)
    # the router went live; what its running config lacks is the run's finding
    assert summary["failed"] == [] and summary["findings"] == {drifted.device.name: missing}
    assert Site.objects.get(pk=run.site_id).status == "live"


@pytest.mark.django_db
def test_recovery_resends_only_silent_runs(run):
    from turnup.provisioning.models import Run, Step
    from turnup.provisioning.services import STALE_SECONDS, run_recover

    assert run_recover() == [], "a run just started is alive"
    old = timezone.now() - timedelta(seconds=STALE_SECONDS * 2)
    Run.objects.filter(pk=run.pk).update(updated=old, status="running")
    step = _bootstraps(run)[0]
    Step.objects.filter(pk=step.pk).update(status="running", heartbeat=timezone.now())
    assert run_recover() == [], "a step's heartbeat is fresh"
    Step.objects.filter(pk=step.pk).update(heartbeat=old)
    assert run_recover() == [run.pk]
    assert run.sent == [run.pk], "sent again (the first send waits for a commit here)"
    assert run_recover() == [], "claimed by the reaper that sent it: not sent twice"


@pytest.mark.django_db
def test_recovery_leaves_a_run_waiting_behind_the_work_on_others(run):
    """A second site's run, silent because its tasks queue behind the first run's, is not
    sent again while the workers are at work (each copy would hold worker threads waiting);
    a step left running by a dead worker is recovered all the same."""
    from turnup.provisioning.models import Run, Step
    from turnup.provisioning.services import STALE_SECONDS, run_recover, run_start

    other = run_start(site=approved_site("LCK-02", edges=0))
    old = timezone.now() - timedelta(seconds=STALE_SECONDS * 2)
    Run.objects.filter(pk__in=[run.pk, other.pk]).update(updated=old)
    first = _bootstraps(run)[0]
    Step.objects.filter(pk=first.pk).update(status="running", heartbeat=timezone.now())
    assert run_recover() == [], "the first run beats; the second waits behind it"
    Step.objects.filter(pk=first.pk).update(status="done", heartbeat=None, finished=old)
    assert sorted(run_recover()) == sorted([run.pk, other.pk]), "nobody at work: both lost"
    Run.objects.filter(pk__in=[run.pk, other.pk]).update(updated=old)
    Step.objects.filter(pk=first.pk).update(finished=timezone.now())
    (boot,) = _bootstraps(other)
    Step.objects.filter(pk=boot.pk).update(status="running", heartbeat=old)
    assert run_recover() == [other.pk], "its worker died mid-step: recovered beside the work"


@pytest.mark.django_db(transaction=True)
def test_a_running_push_reports_its_bytes_through_the_heartbeat(run, monkeypatch):
    from django.db import connection

    from tests.conftest import require_service
    from turnup.provisioning import services
    from turnup.provisioning.models import Step

    if connection.vendor == "sqlite":
        require_service("POSTGRESQL")  # the heartbeat writes from its own thread
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0.05)
    step = _bootstraps(run)[0]
    Step.objects.filter(pk=step.pk).update(status="running")
    heartbeat = services._Heartbeat(step, since=time.monotonic())
    heartbeat.start()
    try:
        for sent in (120, 480):
            services._HEARTBEATS.report(step.pk, step.owner, sent)  # the push's callback does
            deadline = time.monotonic() + 5
            while Step.objects.get(pk=step.pk).bytes_pushed != sent:
                assert time.monotonic() < deadline, f"{sent} bytes never reached the step"
                time.sleep(0.02)
    finally:
        heartbeat.stop()
    assert not services._HEARTBEATS.steps  # nothing left behind for a finished step


@pytest.mark.django_db(transaction=True)
def test_one_heartbeat_thread_serves_every_running_step_of_a_process(run, monkeypatch):
    from django.db import connection

    from tests.conftest import require_service
    from turnup.provisioning import services
    from turnup.provisioning.models import ConsoleLineLock, Step

    if connection.vendor == "sqlite":
        require_service("POSTGRESQL")  # the heartbeat writes from its own thread
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0.05)
    monkeypatch.setattr(services, "HEARTBEAT_SECONDS", 0.1)
    first, second, _ = _bootstraps(run)
    long_ago = timezone.now() - timedelta(minutes=5)
    Step.objects.filter(pk__in=[first.pk, second.pk]).update(status="running", heartbeat=long_ago)
    lock = services._line_claim(first, _target(first), limit=5)
    ConsoleLineLock.objects.filter(pk=lock.pk).update(expires_at=timezone.now())
    beats = [services._Heartbeat(s, since=time.monotonic()) for s in (first, second)]
    for beat in beats:
        beat.start()
    try:
        services._HEARTBEATS.report(first.pk, first.owner, 100)
        services._HEARTBEATS.report(second.pk, second.owner, 250)
        deadline = time.monotonic() + 5
        while True:
            rows = {s.pk: s for s in Step.objects.filter(pk__in=[first.pk, second.pk])}
            if [rows[first.pk].bytes_pushed, rows[second.pk].bytes_pushed] == [100, 250] and all(
                s.heartbeat > long_ago for s in rows.values()
            ):
                break
            assert time.monotonic() < deadline, "bytes or heartbeats never reached the steps"
            time.sleep(0.02)
        names = [t.name for t in threading.enumerate()]
        assert names.count("turnup-heartbeats") == 1, "one thread for both steps"
        renewed = ConsoleLineLock.objects.get(pk=lock.pk).expires_at
        assert renewed > timezone.now() + timedelta(seconds=5), "the line lock was renewed"
    finally:
        for beat in beats:
            beat.stop()
    deadline = time.monotonic() + 5
    while any(t.name == "turnup-heartbeats" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the thread ends when no step runs"
        time.sleep(0.02)
    assert not services._HEARTBEATS.steps


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_stops_at_a_step_taken_over_and_its_delivery_stops_at_the_fence(
    run, monkeypatch
):
    """Each beat names the delivery that owns the step: a step another delivery took over
    (this one's beats lagged) is beaten no more, its line lock is no longer renewed (the
    taker gets the line when it expires), and the delivery's next fence raises; the other
    steps of the process beat on."""
    from django.db import connection

    from tests.conftest import require_service
    from turnup.provisioning import services
    from turnup.provisioning.models import ConsoleLineLock, Step

    if connection.vendor == "sqlite":
        require_service("POSTGRESQL")  # the heartbeat writes from its own thread
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0.05)
    monkeypatch.setattr(services, "HEARTBEAT_SECONDS", 0.1)
    first, second, _ = _bootstraps(run)
    for step, owner in ((first, "w:1:1"), (second, "w:1:2")):
        Step.objects.filter(pk=step.pk).update(status="running", owner=owner)
        step.owner = owner
    lock = services._line_claim(first, _target(first), limit=5)
    assert lock.owner == "w:1:1"
    beats = [services._Heartbeat(s, since=time.monotonic()) for s in (first, second)]
    for beat in beats:
        beat.start()
    try:
        Step.objects.filter(pk=first.pk).update(owner="taker:2:1", attempts=2)
        deadline = time.monotonic() + 5
        while not services._HEARTBEATS.steps[(first.pk, "w:1:1")].lost:
            assert time.monotonic() < deadline, "the beat never found the step taken over"
            time.sleep(0.02)
        with pytest.raises(services.StepTakenOver):
            services._fence(first)
        services._fence(second)  # still its delivery's: passes without a query
        kept = ConsoleLineLock.objects.get(pk=lock.pk).expires_at
        beaten = Step.objects.get(pk=second.pk).heartbeat
        time.sleep(0.4)
        assert ConsoleLineLock.objects.get(pk=lock.pk).expires_at == kept, "not renewed"
        assert Step.objects.get(pk=second.pk).heartbeat > beaten, "the other step beats on"
    finally:
        for beat in beats:
            beat.stop()
    assert not services._HEARTBEATS.steps


@pytest.mark.django_db
def test_a_fence_whose_heartbeat_lags_beats_the_step_itself_while_it_is_still_its_own(
    run, monkeypatch
):
    """When the step's beat has not been written for a while (a starved pool, a stalled
    process), the fence writes it, on condition: the step is still this delivery's, or the
    fence raises — also when the taker ran in the same process and has finished."""
    from turnup.provisioning import services
    from turnup.provisioning.models import Step

    monkeypatch.setattr(services._HEARTBEATS, "_write", lambda steps, beat: None)  # lagging
    step = _bootstraps(run)[0]
    long_ago = timezone.now() - timedelta(seconds=14)
    Step.objects.filter(pk=step.pk).update(status="running", owner="w:1:1", heartbeat=long_ago)
    step.owner = "w:1:1"
    beat = services._Heartbeat(step, since=time.monotonic() - 14)
    beat.start()
    try:
        services._fence(step)
        assert Step.objects.get(pk=step.pk).heartbeat > long_ago, "the fence beat it"
        held = services._HEARTBEATS.steps[(step.pk, "w:1:1")]
        assert held.held_until > time.monotonic() + 10
        services._fence(step)  # held for a while yet: no query
        # its beats lag again; a thread of the same process takes the step over, ends it
        held.held_until = 0.0
        Step.objects.filter(pk=step.pk).update(owner="w:1:2", attempts=2)
        step.owner = "w:1:2"
        taker = services._Heartbeat(step, since=time.monotonic())
        taker.start()
        services._fence(step)
        taker.stop()
        Step.objects.filter(pk=step.pk).update(status="done", heartbeat=None)
        step.owner = "w:1:1"
        with pytest.raises(services.StepTakenOver, match=f"step {step.pk} was taken over"):
            services._fence(step)
        with pytest.raises(services.StepTakenOver):
            services._fence(step)  # marked lost: no query
    finally:
        beat.stop()
    assert not services._HEARTBEATS.steps


@pytest.mark.django_db
def test_a_delivery_that_took_a_step_over_waits_for_the_line_of_the_one_before(run, monkeypatch):
    """The line lock is the delivery's: the taker waits for the lock of the delivery before
    it to expire unrenewed; that delivery, lost, does not wait for the taker's."""
    from turnup.provisioning import services
    from turnup.provisioning.drivers.base import LineBusy
    from turnup.provisioning.models import ConsoleLineLock, Step

    monkeypatch.setattr(services, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(services._HEARTBEATS, "_write", lambda steps, beat: None)
    first, second, _ = _bootstraps(run)
    console = _target(first)
    first.owner = "before:1:1"
    held = services._line_claim(first, console, limit=5)
    first.owner = "taker:2:1"
    with pytest.raises(LineBusy, match=r"earlier delivery of this step \(before:1:1\)"):
        services._line_claim(first, console, limit=0.2)
    second.owner = "other:3:1"
    with pytest.raises(LineBusy, match=f"held by run {run.pk}"):
        services._line_claim(second, console, limit=5)  # another step: busy at once
    ConsoleLineLock.objects.filter(pk=held.pk).update(expires_at=timezone.now())
    taken = services._line_claim(first, console, limit=5)
    assert (taken.step_id, taken.owner) == (first.pk, "taker:2:1")
    Step.objects.filter(pk=first.pk).update(status="running", owner="taker:2:1")
    first.owner = "before:1:1"  # the delivery before, its beats long stopped
    before = services._Heartbeat(first, since=time.monotonic() - 60)
    before.start()
    try:
        started = time.monotonic()
        with pytest.raises(services.StepTakenOver):
            services._line_claim(first, console, limit=5)
        assert time.monotonic() - started < 1, "it did not wait for the taker's line"
    finally:
        before.stop()


@pytest.mark.django_db
def test_a_management_step_whose_delivery_lost_it_does_no_work(run, monkeypatch):
    from turnup.provisioning import services
    from turnup.provisioning.models import Step

    monkeypatch.setattr(services._HEARTBEATS, "_write", lambda steps, beat: None)
    step = run.steps.get(name="full_config", device=_bootstraps(run)[0].device)
    Step.objects.filter(pk=step.pk).update(status="running", owner="taker:2:1")
    step.owner = "before:1:1"
    driver = _ManagementDriver()

    def body():
        raise AssertionError("the config was pushed by a delivery that lost its step")

    beat = services._Heartbeat(step, since=time.monotonic() - 60)
    beat.start()
    try:
        with pytest.raises(services.StepTakenOver):
            services._over_management(step, 30.0, driver, body)
    finally:
        beat.stop()
    assert driver.closed == [False], "its session was closed, not parked"


def test_management_sessions_are_opened_in_a_capped_number_of_slots(monkeypatch):
    from turnup.provisioning import services

    monkeypatch.setattr(services, "_MANAGEMENT_SLOTS", threading.BoundedSemaphore(2))
    limited_at: list[float] = []

    def watched(step, limit, close, body):  # the time limit starts only inside the slot
        limited_at.append(time.monotonic())
        return body()

    monkeypatch.setattr(services, "_watched", watched)
    monkeypatch.setattr(services, "_progress", lambda step, **fields: None)
    monkeypatch.setattr(services, "db_release", lambda: None)
    lock = threading.Lock()
    opening, working, most_opening, most_working, closed = [0], [0], [0], [0], []

    def counted(counter, most, seconds):
        with lock:
            counter[0] += 1
            most[0] = max(most[0], counter[0])
        time.sleep(seconds)
        with lock:
            counter[0] -= 1

    class Driver:
        def mgmt_open(self):
            counted(opening, most_opening, 0.05)

        def mgmt_close(self, *, keep=False):
            closed.append(keep)

    def body():  # a `write memory`: waiting on the router, in no slot
        counted(working, most_working, 0.3)
        return services.Outcome(message="ok")

    started = time.monotonic()
    threads = [
        threading.Thread(
            target=services._over_management,
            args=(SimpleNamespace(name="confirm", pk=1, owner=""), 30.0, Driver(), body),
        )
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert most_opening[0] == 2  # never more sessions opening than slots, and both used
    assert most_working[0] > 2  # an open session holds no slot
    assert closed == [True] * 6  # every session released, parked for the router's next step
    assert max(limited_at) - started >= 0.1  # the last ones waited before their limit began
    assert services._MANAGEMENT_SLOTS._value == 2  # every slot given back


@pytest.mark.parametrize(
    ("step_name", "fails", "kept"),
    [("full_config", False, True), ("archive", False, False), ("verify", True, False)],
)
def test_a_management_session_is_parked_only_after_a_clean_step_that_is_not_the_last(
    monkeypatch, step_name, fails, kept
):
    from turnup.provisioning import services
    from turnup.provisioning.drivers.base import Unreachable

    monkeypatch.setattr(services, "_limited", lambda step, limit, close, body, **kw: body())
    driver = _ManagementDriver()

    def body():
        if fails:
            raise Unreachable("no answer")
        return services.Outcome(message="ok")

    step = SimpleNamespace(name=step_name, pk=1, owner="")
    if fails:
        with pytest.raises(Unreachable):
            services._over_management(step, 30.0, driver, body)
    else:
        services._over_management(step, 30.0, driver, body)
    assert driver.closed == [kept]


def test_a_claim_locks_its_step_and_not_the_run(seeded_transactional_db, storage, enqueued):
    """Another transaction holds the key-share lock a foreign-key check takes on the run (a
    line lock being inserted for another router): a claim still goes through. Locking the
    run's row as well made 200 routers' claims and line locks deadlock."""
    from django.db import connection, connections, transaction

    from tests.conftest import require_service
    from turnup.provisioning.services import _claim, run_start

    require_service("POSTGRESQL")
    run = run_start(site=approved_site("LCK-02", edges=1))
    step = _bootstraps(run)[0]
    holding, release = threading.Event(), threading.Event()

    def foreign_key_check() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM provisioning_run WHERE id = %s FOR KEY SHARE", [run.pk]
                )
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    other = threading.Thread(target=foreign_key_check)
    other.start()
    try:
        assert holding.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            verdict, claimed = _claim(step.pk)
        assert verdict == "run" and claimed.status == "running"
    finally:
        release.set()
        other.join(10)


def test_a_deadlock_victim_is_run_again_and_other_database_errors_are_not():
    from django.db import OperationalError

    from turnup.provisioning.services import _deadlock_retried

    class Cause(Exception):
        def __init__(self, sqlstate):
            self.sqlstate = sqlstate

    def failing(sqlstate, times):
        calls = []

        def function(value):
            calls.append(value)
            if len(calls) <= times:
                raise OperationalError("database error") from Cause(sqlstate)
            return value * 2

        return function, calls

    function, calls = failing("40P01", 2)
    assert _deadlock_retried(function, 21) == 42 and calls == [21, 21, 21]
    function, calls = failing("40P01", 3)
    with pytest.raises(OperationalError):
        _deadlock_retried(function, 1)
    assert len(calls) == 3, "gives up after three attempts"
    function, calls = failing("57014", 1)  # a cancelled statement: not retried
    with pytest.raises(OperationalError):
        _deadlock_retried(function, 1)
    assert calls == [1]


@pytest.mark.django_db
def test_a_claim_takes_two_queries_and_says_what_each_delivery_does(run, django_assert_num_queries):
    from turnup.provisioning.models import RunStatus, StepStatus
    from turnup.provisioning.services import _claim, _finish

    core_boot = run.steps.get(stage=0, name="bootstrap")
    core_full = run.steps.get(device=core_boot.device, name="full_config")
    assert _claim(core_full.pk)[0] == "wait", "its bootstrap is not done"
    with django_assert_num_queries(3):  # the claim, the step read back, the queued run
        verdict, step = _claim(core_boot.pk)
    assert verdict == "run" and step.status == StepStatus.RUNNING and step.attempts == 1
    assert step.run.status == RunStatus.RUNNING
    assert _claim(core_boot.pk)[0] == "wait", "a second delivery while the first runs"
    _finish(step, StepStatus.DONE)
    assert _claim(core_boot.pk)[0] == "finished"
    with django_assert_num_queries(2):  # the run is running already
        verdict, step = _claim(core_full.pk)
    assert verdict == "run" and step.started is not None
    _finish(step, StepStatus.FAILED, reason="no_answer")
    later = run.steps.get(device=core_boot.device, name="verify")
    verdict, skipped = _claim(later.pk)
    assert verdict == "skip" and skipped.reason == "earlier_step_failed"


@pytest.mark.django_db
def test_the_first_step_reads_the_design_context_of_every_router_of_its_run(
    run, monkeypatch, django_assert_max_num_queries, django_assert_num_queries
):
    from turnup.dcim.models import ConsolePort
    from turnup.provisioning import services

    monkeypatch.setattr(services, "_CONTEXTS", services.OrderedDict())
    steps = list(run.steps.filter(name="bootstrap").select_related("device"))
    lonely = steps[-1]
    ConsolePort.objects.filter(device=lonely.device).update(cable=None)  # no console path
    with django_assert_max_num_queries(7):  # the change log, the devices, their contexts
        device, targets = services._device_and_targets(steps[0])
    assert device.pk == steps[0].device_id and targets.hostname == device.name
    for step in steps[1:-1]:
        with django_assert_num_queries(1):  # the newest change-log entry: the design as read
            assert services._device_and_targets(step)[1].hostname == step.device.name
    with pytest.raises(services.ApplicationError, match="no console path"):
        services._device_and_targets(lonely)  # its error, the others unaffected


@pytest.mark.django_db
def test_the_steps_of_one_task_read_the_design_and_the_full_config_once(
    run, monkeypatch, django_assert_num_queries
):
    """A management task runs four steps over one session: the first reads the design
    revision and the full config; the others take them from the task (no query)."""
    from turnup.provisioning import services

    monkeypatch.setattr(services, "_CONTEXTS", services.OrderedDict())
    full, verify, archive = (
        run.steps.select_related("device", "run").get(stage=0, name=name)
        for name in ("full_config", "verify", "archive")
    )
    services._device_and_targets(full)  # the run's contexts, read once per worker
    seen: list[list[int]] = []

    def task_body(*, step_id: int) -> dict:
        step = {s.pk: s for s in (full, verify, archive)}[step_id]
        with django_assert_num_queries(1 if step is full else 0):
            services._device_and_targets(step)
        with django_assert_num_queries(1 if step is full else 0):
            config = services._configs_for_push(step, step.device, ("full",))["full"]
        seen.append([step.pk, config.version_id])
        return {}

    monkeypatch.setattr(services, "device_turnup_step", task_body)
    services.device_turnup_steps(step_ids=[full.pk, verify.pk, archive.pk])
    assert [pk for pk, _ in seen] == [full.pk, verify.pk, archive.pk]
    assert len({version for _, version in seen}) == 1
    # outside a task (the API, a test) each call reads the design revision again
    with django_assert_num_queries(1):
        services._device_and_targets(verify)


@pytest.mark.django_db
def test_a_cancel_skips_what_has_not_started_and_lets_a_running_step_finish(run):
    """A second delivery of a running step after a cancel waits for it (it was skipping it,
    and the run settled while its push went on); once its heartbeat is stale, the worker
    running it is gone and the delivery skips it."""
    from turnup.provisioning.models import Step, StepStatus
    from turnup.provisioning.services import _claim, run_cancel

    core_boot = run.steps.get(stage=0, name="bootstrap")
    assert _claim(core_boot.pk)[0] == "run"
    run = run_cancel(run=run)
    assert run.status == "running", "a step runs: not settled"
    steps = dict(run.steps.values_list("pk", "status"))
    assert steps.pop(core_boot.pk) == StepStatus.RUNNING
    assert set(steps.values()) == {StepStatus.SKIPPED}
    assert _claim(core_boot.pk)[0] == "wait", "a duplicate delivery waits for the running step"
    Step.objects.filter(pk=core_boot.pk).update(heartbeat=timezone.now() - timedelta(minutes=1))
    verdict, step = _claim(core_boot.pk)
    assert verdict == "skip" and step.reason == "cancelled"


@pytest.mark.django_db
def test_a_cancel_fails_the_steps_of_a_worker_that_stopped_and_settles_the_run(
    run, monkeypatch, django_assert_num_queries
):
    """A step whose worker died holds its run, and its site in turning-up, until a worker
    takes it over; a cancel with no worker left would never settle. The cancel fails the
    steps nobody has beaten for STALE_SECONDS (``abandoned``, with when the worker was last
    heard from) and settles the run; a step still beating is left to finish. The delivery
    that ran an abandoned step, should it wake up, stops at its fence and cannot end it."""
    from turnup.dcim.choices import SiteStatus
    from turnup.provisioning import services
    from turnup.provisioning.models import Step, StepStatus

    monkeypatch.setattr(services._HEARTBEATS, "_write", lambda steps, beat: None)
    core, edge = _bootstraps(run)[0], _bootstraps(run)[-1]
    silent_since = timezone.now() - timedelta(seconds=services.STALE_SECONDS + 5)
    for step, owner, beat in [(core, "w:1:1", silent_since), (edge, "w:2:1", timezone.now())]:
        Step.objects.filter(pk=step.pk).update(
            status="running", owner=owner, heartbeat=beat, started=silent_since
        )
        step.owner = owner
    dead = services._Heartbeat(core, since=time.monotonic() - services.STALE_SECONDS - 5)
    dead.start()
    try:
        # the same statements for one abandoned step or two hundred
        with django_assert_num_queries(2):
            services._abandoned_fail(run)
        core_now = Step.objects.get(pk=core.pk)
        assert (core_now.status, core_now.reason, core_now.heartbeat) == (
            "failed",
            "abandoned",
            None,
        )
        assert f"last heard from at {silent_since:%Y-%m-%d %H:%M:%S} UTC" in core_now.message
        assert core_now.owner == "w:1:1" and core_now.seconds >= services.STALE_SECONDS
        assert Step.objects.get(pk=edge.pk).status == "running", "it still beats: it finishes"
        run = services.run_cancel(run=run)
        assert run.cancel_requested and not run.is_finished, "not settled: a live step runs"
        with pytest.raises(services.StepTakenOver):
            services._fence(core)  # the dead delivery wakes up: it pushes nothing more
        assert not services._finish(core, StepStatus.DONE, owner="w:1:1")
        assert Step.objects.get(pk=core.pk).status == "failed"
    finally:
        dead.stop()
    # the live step's worker dies too: a second cancel settles the run and frees the site
    Step.objects.filter(pk=edge.pk).update(heartbeat=silent_since)
    run = services.run_cancel(run=run)
    assert run.status == "cancelled"
    assert run.summary["devices"][core.device.name]["reason"] == "abandoned"
    assert run.summary["devices"][edge.device.name]["reason"] == "abandoned"
    run.site.refresh_from_db()
    assert run.site.status == SiteStatus.FAILED
    assert services.run_retry_failed(run=run).status == "queued", "and it can be retried"


@pytest.mark.django_db
def test_only_the_latest_run_of_a_site_is_retried(run):
    from turnup.core.errors import ConflictError
    from turnup.provisioning.services import run_cancel, run_retry_failed, run_start

    first = run_cancel(run=run)
    assert first.status == "cancelled"
    second = run_start(site=first.site)
    with pytest.raises(ConflictError, match=f"run {second.pk} \\(queued\\) came after it"):
        run_retry_failed(run=first)
    second = run_cancel(run=second)
    with pytest.raises(ConflictError, match=f"run {second.pk} \\(cancelled\\) came after it"):
        run_retry_failed(run=first)
    assert run_retry_failed(run=second).status == "queued"
    assert set(first.steps.values_list("status", flat=True)) == {"skipped"}, "not retried"


@pytest.mark.django_db
def test_a_failed_step_keeps_no_secret_its_error_quoted(run, monkeypatch):
    """A driver error quotes the config line that went wrong and the transcript around it;
    the Step keeps them without the secrets in them, whatever driver raised them."""
    from turnup.provisioning import services
    from turnup.provisioning.drivers.base import ConfigRejected, EchoMismatch

    attempts = iter(
        [
            EchoMismatch("line 7 came back as 'snmp-server user nms ops v3 auth sha s3cr3t-a'"),
            ConfigRejected(
                "R1 refused 'username turnup privilege 15 secret 0 hunter2'",
                output="R1(config)#username turnup privilege 15 secret 0 hunter2\n% Invalid",
            ),
        ]
    )

    def body(step):
        raise next(attempts)

    monkeypatch.setitem(services.STEP_BODIES, "bootstrap", body)
    monkeypatch.setattr(services, "RETRY_PAUSE_SECONDS", 0)
    core_boot = run.steps.get(stage=0, name="bootstrap")
    assert services.device_turnup_step(step_id=core_boot.pk)["status"] == "failed"
    core_boot.refresh_from_db()
    assert core_boot.reason == "config_rejected"
    assert core_boot.message == "R1 refused 'username turnup privilege 15 secret 0 ********"
    assert core_boot.log.startswith("R1(config)#username turnup privilege 15 secret 0 ********")
    (earlier,) = core_boot.result["failed_attempts"]
    assert earlier["reason"] == "echo_mismatch" and "s3cr3t-a" not in earlier["message"]


@pytest.mark.django_db
def test_a_database_error_inside_a_step_leaves_it_to_the_tasks_retry(run, monkeypatch):
    """Not an `internal_error` failing the router: the error reaches the task (which Celery
    retries), the step stays running without a heartbeat, and the retry takes it over."""
    from django.db import OperationalError

    from turnup.provisioning import services
    from turnup.provisioning.models import Step
    from turnup.provisioning.services import Outcome

    calls = []

    def body(step):
        calls.append(step.attempts)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return Outcome(message="bootstrapped")

    monkeypatch.setitem(services.STEP_BODIES, "bootstrap", body)
    boot = _bootstraps(run)[0]
    with pytest.raises(OperationalError):
        services.device_turnup_step(step_id=boot.pk)
    boot.refresh_from_db()
    assert boot.status == "running" and boot.reason == ""
    stale = timezone.now() - timedelta(seconds=services.STALE_SECONDS + 1)
    Step.objects.filter(pk=boot.pk).update(heartbeat=stale)  # as it is 15 s later
    assert services.device_turnup_step(step_id=boot.pk)["status"] == "done"
    boot.refresh_from_db()
    assert calls == [1, 2] and boot.message == "bootstrapped"


@pytest.mark.django_db
def test_settle_leaves_a_run_with_steps_still_to_run(run):
    """A callback that finds steps pending (an earlier graph's, arriving after retry-failed
    put them back; or a graph that lost tasks) does not settle the run: it goes on, and
    recovery resends a graph gone silent. A cancelled run settles: they will never run."""
    from turnup.provisioning.models import Run, Step
    from turnup.provisioning.services import run_settle

    Step.objects.filter(run=run, device=_bootstraps(run)[0].device).update(status="done")
    assert run_settle(run_id=run.pk) == {}
    assert not Run.objects.get(pk=run.pk).is_finished
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    summary = run_settle(run_id=run.pk)
    assert Run.objects.get(pk=run.pk).status == "cancelled"
    assert {summary["devices"][name]["reason"] for name in summary["failed"]} == {"not_run"}


@pytest.mark.django_db
def test_a_delivery_whose_step_was_taken_over_does_not_write_its_end(run, monkeypatch):
    """A delivery whose heartbeat lagged past STALE_SECONDS (a starved database pool) may
    see its step taken over by another; when it ends, the step is the taker's: its end is
    not written over the taker's."""
    from turnup.provisioning import services
    from turnup.provisioning.models import Step
    from turnup.provisioning.services import Outcome

    boot = _bootstraps(run)[0]

    def body(step):
        # meanwhile another worker took the step over and finished it
        Step.objects.filter(pk=step.pk).update(owner="other:1:1", status="done", message="ok")
        return Outcome(message="bootstrapped here too")

    monkeypatch.setitem(services.STEP_BODIES, "bootstrap", body)
    assert services.device_turnup_step(step_id=boot.pk)["status"] == "taken_over"
    boot.refresh_from_db()
    assert (boot.status, boot.owner, boot.message) == ("done", "other:1:1", "ok")
