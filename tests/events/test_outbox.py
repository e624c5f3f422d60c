"""The outbox: an event is written with the change it tells of (and only if that commits),
and the relay publishes pending events in order, marking only what the broker acknowledged."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import SiteFactory
from turnup.core.errors import ApplicationError
from turnup.events import constants, selectors, services
from turnup.events.models import OutboxEvent


def _site_events(site) -> list[tuple]:
    return [
        (e.data["previous"], e.data["status"])
        for e in OutboxEvent.objects.filter(topic=constants.TOPIC_SITE_STATUS, key=site.name)
    ]


@pytest.mark.django_db
def test_a_site_tells_every_status_change_in_order():
    from turnup.dcim.services import site_create, site_transition, site_update

    site = site_create(name="EVT-01", slug="evt-01")
    site_transition(site=site, to_status="designed")
    site_update(instance=site, description="no status change: no event")
    site_update(instance=site, status="planned")
    assert _site_events(site) == [
        (None, "planned"),
        ("planned", "designed"),
        ("designed", "planned"),
    ]
    event = OutboxEvent.objects.filter(key="EVT-01").last()
    assert event.type == "site.status-changed" and event.data["site_id"] == site.pk
    assert event.published is None, "nothing is published until the relay sends it"
    envelope = event.envelope()
    assert envelope["id"] == str(event.event_id) and envelope["data"]["status"] == "planned"


@pytest.mark.django_db
def test_a_refused_or_rolled_back_change_tells_nothing():
    from django.db import transaction

    from turnup.dcim.services import site_transition

    site = SiteFactory(status="planned")
    with pytest.raises(ApplicationError, match="cannot go from planned to live"):
        site_transition(site=site, to_status="live")
    with pytest.raises(RuntimeError), transaction.atomic():
        site_transition(site=site, to_status="designed")
        raise RuntimeError("the caller's transaction fails after the transition")
    assert _site_events(site) == []
    site.refresh_from_db()
    assert site.status == "planned"


@pytest.mark.django_db
def test_the_actor_is_told():
    from django.contrib.auth import get_user_model

    from turnup.core.context import bind_actor
    from turnup.dcim.services import site_transition

    site = SiteFactory(status="planned")
    bind_actor(get_user_model().objects.create_user(username="field-eng"))
    try:
        site_transition(site=site, to_status="designed")
    finally:
        bind_actor(None)
    assert OutboxEvent.objects.get(key=site.name, data__status="designed").data["by"] == "field-eng"


@pytest.mark.django_db
def test_an_unknown_topic_is_refused():
    with pytest.raises(ValueError, match="unknown outbound topic"):
        services.event_record(topic="nobody.listens", key="k", type="t", data={})


@pytest.mark.django_db
def test_reading_and_marking_a_batch_costs_one_query_each_whatever_its_size(
    django_assert_num_queries,
):
    for size in (3, 60):
        OutboxEvent.objects.all().delete()
        OutboxEvent.objects.bulk_create(
            [
                OutboxEvent(topic=constants.TOPIC_RUN_FINISHED, key=f"S{n}", type="t", data={})
                for n in range(size)
            ]
        )
        with django_assert_num_queries(1):
            pending = selectors.outbox_pending(limit=500)
        assert len(pending) == size
        with django_assert_num_queries(1):
            services.outbox_published(ids=[e.pk for e in pending])
        assert selectors.outbox_pending(limit=500) == []


class _Broker:
    """What the relay hands events to: it acknowledges each, or fails the ones listed."""

    def __init__(self, fail_keys=(), refuse=False):
        self.sent: list[str] = []
        self.fail_keys, self.refuse = set(fail_keys), refuse

    async def send(self, event):
        if self.refuse:
            raise ConnectionError("no broker")
        self.sent.append(event.key)
        delivery = asyncio.get_running_loop().create_future()
        if event.key in self.fail_keys:
            delivery.set_exception(TimeoutError("not acknowledged"))
        else:
            delivery.set_result(None)
        return delivery


def _record(keys):
    for key in keys:
        services.event_record(topic=constants.TOPIC_SITE_STATUS, key=key, type="t", data={})


def test_the_relay_publishes_in_order_and_keeps_what_was_not_acknowledged(transactional_db):
    from turnup.events.agents import outbox_drain

    _record(["A", "B", "C", "D", "E"])
    broker = _Broker(fail_keys={"C"})
    assert asyncio.run(outbox_drain(broker.send, batch=2)) == 2
    # A, B in the first batch; C failed in the second: C and what follows stay pending
    assert broker.sent == ["A", "B", "C", "D"]
    events = {e.key: e for e in OutboxEvent.objects.all()}
    assert [k for k, e in events.items() if e.published] == ["A", "B"]
    assert events["C"].attempts == events["D"].attempts == 1
    assert "TimeoutError: not acknowledged" in events["C"].last_error
    assert events["E"].attempts == 0 and events["E"].last_error == ""

    broker = _Broker()
    assert asyncio.run(outbox_drain(broker.send, batch=2)) == 3
    assert broker.sent == ["C", "D", "E"], "the next round starts where the last one stopped"
    assert not OutboxEvent.objects.filter(published__isnull=True).exists()
    assert OutboxEvent.objects.get(key="C").last_error == ""


def test_the_relay_records_a_broker_that_refuses(transactional_db):
    from turnup.events.agents import outbox_drain

    _record(["A", "B"])
    assert asyncio.run(outbox_drain(_Broker(refuse=True).send)) == 0
    assert {e.last_error for e in OutboxEvent.objects.all()} == {"ConnectionError: no broker"}
    assert not OutboxEvent.objects.filter(published__isnull=False).exists()


@pytest.mark.django_db
def test_metrics_tell_how_many_events_wait(client):
    _record(["A", "B", "C"])
    services.outbox_published(ids=[OutboxEvent.objects.order_by("id").first().pk])
    body = client.get("/metrics").content.decode()
    assert "\nturnup_events_outbox_pending 2.0\n" in body


def _aged(model, field: str, rows: list, days: int) -> None:
    model.objects.filter(pk__in=[row.pk for row in rows]).update(
        **{field: timezone.now() - timedelta(days=days)}
    )


@pytest.mark.django_db
def test_prune_deletes_what_the_bus_no_longer_needs_and_keeps_pending_events(
    django_assert_num_queries,
):
    from turnup.events.models import InboundEvent

    def event(published: bool) -> OutboxEvent:
        return OutboxEvent.objects.create(
            topic=constants.TOPIC_SITE_STATUS,
            key="PRN-01",
            type="site.status-changed",
            data={},
            published=timezone.now() if published else None,
        )

    old_published = [event(True) for _ in range(5)]
    _aged(OutboxEvent, "published", old_published, 20)
    old_pending = event(False)
    _aged(OutboxEvent, "created", [old_pending], 90)
    recent_published = event(True)
    _aged(OutboxEvent, "published", [recent_published], 3)
    inbound = [
        InboundEvent.objects.create(
            topic=constants.TOPIC_SITE_READY,
            partition=0,
            offset=offset,
            status="applied" if offset % 2 else "rejected",
        )
        for offset in range(4)
    ]
    _aged(InboundEvent, "received", inbound[:3], 15)

    with django_assert_num_queries(2):  # whatever is deleted: one DELETE a table
        pruned = services.events_prune_expired(days=14)

    assert pruned == {"outbox": 5, "inbound": 3}
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {
        old_pending.pk,
        recent_published.pk,
    }
    assert list(InboundEvent.objects.values_list("offset", flat=True)) == [3]
    assert services.events_prune_expired(days=0) == {"outbox": 0, "inbound": 0}
    assert services.events_prune_expired(days=1) == {"outbox": 1, "inbound": 0}


@pytest.mark.django_db
def test_prune_command_uses_the_retention_setting(settings):
    from django.core.management import CommandError, call_command

    settings.EVENTS_RETENTION_DAYS = 7
    kept = OutboxEvent.objects.create(
        topic=constants.TOPIC_RUN_FINISHED, key="PRN-02", type="run.finished", data={}
    )
    gone = OutboxEvent.objects.create(
        topic=constants.TOPIC_RUN_FINISHED,
        key="PRN-02",
        type="run.finished",
        data={},
        published=timezone.now(),
    )
    _aged(OutboxEvent, "published", [gone], 8)
    out = io.StringIO()
    call_command("events", "--prune", stdout=out)
    assert out.getvalue().strip() == "pruned 1 published event(s) and 0 inbound record(s)"
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    with pytest.raises(CommandError, match="--days must be 1 or more"):
        call_command("events", "--prune", "--days", "0")
