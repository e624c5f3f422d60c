"""REST lists of the outbox and of the consumed messages: filters, errors naming the field,
and a constant number of queries whatever the number of rows."""

from __future__ import annotations

import pytest

from turnup.events import constants, services
from turnup.events.models import InboundEvent, OutboxEvent


def _fill(n: int) -> None:
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                topic=constants.OUTBOUND_TOPICS[i % 3], key=f"S{i}", type="t", data={"i": i}
            )
            for i in range(n)
        ]
    )
    for i in range(n):
        services.inbound_apply(
            topic=constants.TOPIC_SITE_READY,
            partition=0,
            offset=InboundEvent.objects.count() + 1,
            key=None,
            value=b"{}" if i % 2 else b"nope",
            handle=lambda payload: "ok",
        )


@pytest.mark.django_db
def test_outbox_list_filters_and_costs_the_same_whatever_its_length(
    api_client, django_assert_num_queries
):
    for n in (3, 30):
        _fill(n)
        with django_assert_num_queries(2):  # count + page
            page = api_client.get("/api/events/outbox/?limit=100").json()
        assert page["count"] == len(page["results"]) > 0
    newest = page["results"][0]
    assert set(newest) >= {"id", "topic", "key", "type", "data", "published", "attempts"}
    assert newest["data"] == {"i": 29} and newest["published"] is None
    runs = api_client.get(f"/api/events/outbox/?topic={constants.TOPIC_RUN_FINISHED}").json()
    assert runs["count"] == 1 + 10 and {e["topic"] for e in runs["results"]} == {
        constants.TOPIC_RUN_FINISHED
    }
    services.outbox_published(ids=[OutboxEvent.objects.order_by("id").first().pk])
    assert api_client.get("/api/events/outbox/?pending=false").json()["count"] == 1
    assert api_client.get("/api/events/outbox/?pending=true").json()["count"] == 33 - 1
    bad = api_client.get("/api/events/outbox/?pending=perhaps")
    assert bad.status_code == 400 and bad.json()["extra"]["fields"] == {
        "pending": ["true or false"]
    }


@pytest.mark.django_db
def test_inbound_list_filters_by_status(api_client, django_assert_num_queries):
    _fill(4)
    with django_assert_num_queries(2):
        rejected = api_client.get("/api/events/inbound/?status=rejected").json()
    assert rejected["count"] == 2
    assert {r["raw"] for r in rejected["results"]} == {"nope"}
    assert rejected["results"][0]["details"] == {"fields": {"value": ["not valid JSON"]}}
    bad = api_client.get("/api/events/inbound/?status=lost")
    assert bad.status_code == 400
    assert bad.json()["extra"]["fields"] == {"status": ["one of applied, rejected"]}


def test_the_lists_need_a_login(client, db):
    assert client.get("/api/events/outbox/").status_code in (401, 403)
