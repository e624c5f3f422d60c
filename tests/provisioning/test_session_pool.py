"""The pool that keeps a router's management session open between its steps."""

from turnup.provisioning.drivers.base import SessionPool


class Session:
    def __init__(self, fail_on_close: bool = False):
        self.closed = 0
        self.fail_on_close = fail_on_close

    def close(self) -> None:
        self.closed += 1
        if self.fail_on_close:
            raise OSError("socket already closed")


def test_a_parked_session_is_taken_once_by_its_key():
    pool, session = SessionPool(), Session()
    pool.park(("cisco_iosxe", "10.0.0.1", 22, "turnup"), session, session.close)
    assert pool.take(("cisco_iosxe", "10.0.0.2", 22, "turnup")) is None
    assert pool.take(("cisco_iosxe", "10.0.0.1", 22, "turnup")) is session
    assert pool.take(("cisco_iosxe", "10.0.0.1", 22, "turnup")) is None
    assert session.closed == 0


def test_parking_over_a_parked_session_closes_the_older_one():
    pool, older, newer = SessionPool(), Session(), Session()
    pool.park(("r1",), older, older.close)
    pool.park(("r1",), newer, newer.close)
    assert older.closed == 1 and newer.closed == 0
    assert pool.take(("r1",)) is newer


def test_sweep_closes_only_sessions_idle_past_the_limit_and_survives_dead_ones():
    pool = SessionPool(idle_seconds=3600)
    dead, alive = Session(fail_on_close=True), Session()
    pool.park(("dead",), dead, dead.close)
    assert pool.sweep() == 0 and len(pool) == 1
    assert pool.sweep(idle_seconds=0) == 1  # a close that raises is still counted and dropped
    assert dead.closed == 1 and len(pool) == 0
    pool.park(("alive",), alive, alive.close)
    assert pool.take(("alive",)) is alive and alive.closed == 0
