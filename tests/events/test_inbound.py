"""Inbound messages: each is applied once and recorded with what it did, or rejected with the
field and the reason — and a rejected one changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.factories import dcim_console_site
from turnup.core.errors import ApplicationError
from turnup.dcim.models import Device
from turnup.events import constants, services
from turnup.events.handlers import HANDLERS
from turnup.events.models import InboundEvent

DELIVERED = constants.TOPIC_HARDWARE_DELIVERED
READY = constants.TOPIC_SITE_READY

_offsets = iter(range(1, 10_000))


def deliver(topic: str, value, *, offset: int | None = None) -> InboundEvent:
    """Apply one message as the Faust agent does."""
    if not isinstance(value, bytes | str):
        value = json.dumps(value).encode()
    return services.inbound_apply(
        topic=topic,
        partition=0,
        offset=next(_offsets) if offset is None else offset,
        key=b"k",
        value=value,
        handle=HANDLERS[topic],
    )


@pytest.fixture
def site(db):
    site, _server, routers = dcim_console_site(routers=3)
    return site


def _model(site) -> str:
    return Device.objects.filter(site=site, name="rtr1").get().device_type.model


def test_a_delivery_naming_the_device_records_its_serial_and_stages_it(site):
    from turnup.core.models import ObjectChange

    record = deliver(
        DELIVERED, {"site": site.name, "device": "rtr2", "serial": "FDO1", "asset_tag": "A-7"}
    )
    assert record.status == "applied", record.message
    assert record.message == f"rtr2 at {site}: serial FDO1 recorded, staged"
    device = Device.objects.get(site=site, name="rtr2")
    assert (device.serial, device.asset_tag, device.status) == ("FDO1", "A-7", "staged")
    change = ObjectChange.objects.filter(changed_object_id=device.pk, action="update").first()
    assert change.postchange_data["serial"] == "FDO1", "the change log has it, as for any edit"
    # the same serial again (another offset: the sender retried) changes nothing
    again = deliver(DELIVERED, {"site": site.slug, "device": "rtr2", "serial": "FDO1"})
    assert again.status == "applied" and "nothing to do" in again.message


def test_a_delivery_naming_only_the_model_takes_the_first_device_still_without_serial(site):
    model = _model(site)
    first = deliver(DELIVERED, {"site": site.name, "model": model, "serial": "S-1"})
    second = deliver(DELIVERED, {"site": site.name, "model": model.upper(), "serial": "S-2"})
    assert first.status == second.status == "applied"
    serials = dict(
        Device.objects.filter(site=site, name__startswith="rtr").values_list("name", "serial")
    )
    assert serials == {"rtr1": "S-1", "rtr2": "S-2", "rtr3": ""}
    deliver(DELIVERED, {"site": site.name, "model": model, "serial": "S-3"})
    full = deliver(DELIVERED, {"site": site.name, "model": model, "serial": "S-4"})
    assert full.status == "rejected"
    assert full.details == {
        "fields": {"model": [f"no {model} at {site} is waiting for its serial"]}
    }


@pytest.mark.parametrize(
    ("message", "field", "reason"),
    [
        ({"device": "rtr1"}, "serial", "This field is required."),
        ({"serial": "X"}, "model", "give the model, the device, or both"),
        ({"device": "rtr9", "serial": "X"}, "device", "no device named 'rtr9' at {site}"),
        (
            {"device": "rtr1", "model": "MX204", "serial": "X"},
            "model",
            "rtr1 is designed as a {model}, not a MX204",
        ),
        ({"device": "rtr1", "serial": "X", "site": "NOWHERE"}, "site", "no site named 'NOWHERE'"),
    ],
)
def test_a_bad_delivery_is_rejected_naming_the_field_and_changes_nothing(
    site, message, field, reason
):
    record = deliver(DELIVERED, {"site": site.name, **message})
    assert record.status == "rejected"
    reason = reason.format(site=site, model=_model(site))
    assert record.details["fields"] == {field: [reason]}
    assert field in record.message and reason in record.message
    assert not Device.objects.filter(site=site).exclude(serial="").exists()
    assert record.payload["serial" if "serial" in message else "device"]


def test_a_serial_taken_elsewhere_or_a_second_serial_is_rejected(site):
    other, _server, _routers = dcim_console_site(routers=1)
    deliver(DELIVERED, {"site": other.name, "device": "rtr1", "serial": "DUP"})
    taken = deliver(DELIVERED, {"site": site.name, "device": "rtr1", "serial": "DUP"})
    assert taken.details["fields"] == {"serial": [f"already the serial of rtr1 at {other}"]}
    deliver(DELIVERED, {"site": site.name, "device": "rtr1", "serial": "ONE"})
    second = deliver(DELIVERED, {"site": site.name, "device": "rtr1", "serial": "TWO"})
    assert second.details["fields"] == {"serial": ["rtr1 already has serial ONE"]}
    assert Device.objects.get(site=site, name="rtr1").serial == "ONE"


@pytest.mark.parametrize(
    ("value", "reason"),
    [(b"not json {", "not valid JSON"), (b'["a", "list"]', "a JSON object, not list")],
)
def test_a_message_that_is_not_a_json_object_is_rejected_and_kept(site, value, reason):
    record = deliver(DELIVERED, value)
    assert record.status == "rejected" and record.details["fields"] == {"value": [reason]}
    assert record.raw == ("not json {" if value.startswith(b"not") else "")


def test_a_refusal_whose_details_are_not_json_is_still_recorded(site):
    def handle(payload):
        raise ApplicationError("no", extra={"when": site, "fields": {"x": ["y"]}})

    record = services.inbound_apply(
        topic=DELIVERED, partition=1, offset=5, key=None, value=b"{}", handle=handle
    )
    record.refresh_from_db()
    assert record.details == {"when": str(site), "fields": {"x": ["y"]}}


def test_a_redelivered_offset_is_applied_once(site):
    calls = []

    def handle(payload):
        calls.append(payload)
        return "done"

    for _ in range(2):
        record = services.inbound_apply(
            topic=DELIVERED, partition=3, offset=42, key=None, value=b"{}", handle=handle
        )
    assert len(calls) == 1 and record.message == "done"
    assert InboundEvent.objects.filter(partition=3, offset=42).count() == 1
    # the topic was deleted and created again: offset 42 is another message (its timestamp)
    services.inbound_apply(
        topic=DELIVERED,
        partition=3,
        offset=42,
        timestamp_ms=1_800_000_000_000,
        key=None,
        value=b"{}",
        handle=handle,
    )
    assert len(calls) == 2


def test_a_refused_message_rolls_back_what_its_handler_wrote(site):
    def handle(payload):
        Device.objects.filter(site=site).update(serial="HALF")
        raise ApplicationError("refused after a write", extra={"fields": {"x": ["no"]}})

    record = services.inbound_apply(
        topic=DELIVERED, partition=0, offset=7, key="k", value=b"{}", handle=handle
    )
    assert record.status == "rejected" and record.message == "refused after a write"
    assert not Device.objects.filter(serial="HALF").exists()


def test_site_ready_turns_an_approved_site_up(
    db, storage, enqueued, django_capture_on_commit_callbacks
):
    from tests.provisioning.conftest import approved_site
    from turnup.provisioning.models import Run

    site = approved_site("EVT-02", edges=1)
    with django_capture_on_commit_callbacks(execute=True):
        record = deliver(READY, {"site": site.name})
    run = Run.objects.get(site=site)
    assert (
        record.status == "applied" and record.message == f"{site}: turn-up started (run {run.pk})"
    )
    assert enqueued == [run.pk], "the graph is sent after the commit, as from the API"
    again = deliver(READY, {"site": site.name})
    assert again.status == "applied"
    assert again.message == f"{site} is already turning up (run {run.pk}): nothing to do"


def test_site_ready_for_a_site_not_approved_is_rejected_with_the_reason(site, enqueued):
    record = deliver(READY, {"site": site.name, "overwrite": "maybe"})
    assert record.details["fields"] == {"overwrite": ["Must be a valid boolean."]}
    record = deliver(READY, {"site": site.name})
    assert record.status == "rejected"
    assert "cannot go from planned to turning-up" in record.message
    assert enqueued == []


def test_nul_characters_which_postgresql_cannot_store_are_replaced(site):
    record = deliver(DELIVERED, b"\x00 not json")
    assert record.status == "rejected" and record.raw == "\ufffd not json"
    record = deliver(DELIVERED, b'{"site": "x\\u0000", "device": "rtr1", "serial": "S"}')
    assert record.status == "rejected" and record.payload["site"] == "x\ufffd"
    assert record.details["fields"] == {"site": ["no site named 'x\ufffd'"]}


def test_a_handlers_bug_is_recorded_not_lost(site):
    def handle(payload):
        return payload["missing"]

    record = services.inbound_apply(
        topic=READY, partition=0, offset=99, key=None, value=b"{}", handle=handle
    )
    assert record.status == "rejected" and record.message == "internal error: KeyError: 'missing'"


def test_a_value_the_database_refuses_is_recorded_as_rejected(site):
    def handle(payload):
        Device.objects.filter(site=site).update(serial="x" * 51)  # past varchar(50)
        return "never"

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not hold a varchar to its length")
    record = services.inbound_apply(
        topic=READY, partition=0, offset=100, key=None, value=b"{}", handle=handle
    )
    assert record.status == "rejected"
    assert record.message.startswith("the database refused it:")
    assert not Device.objects.filter(site=site).exclude(serial="").exists()
