"""What each inbound topic does: validate the message, then call the owning app's service —
the Kafka counterpart of an API view. A handler returns what it did, or refuses the message
with ``ApplicationError`` naming the field and the reason (``services.inbound_apply`` records
either, in the transaction of the change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q
from rest_framework import serializers

from turnup.core.errors import ApplicationError, ConflictError
from turnup.dcim.choices import DeviceStatus
from turnup.dcim.models import Device, Site
from turnup.dcim.services import device_update
from turnup.events import constants
from turnup.provisioning.services import run_start


def _validated(serializer_class: type[serializers.Serializer], payload: Any, topic: str) -> dict:
    if not isinstance(payload, dict):
        raise ApplicationError(
            f"A {topic} message is a JSON object.",
            extra={"fields": {"value": [f"a JSON object, not {type(payload).__name__}"]}},
        )
    data = serializer_class(data=payload)
    if not data.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in data.errors.items()}
        first = next(iter(fields))
        raise ApplicationError(
            f"Invalid {topic} message: {first}: {fields[first][0]}", extra={"fields": fields}
        )
    return data.validated_data


def _site(name: str) -> Site:
    site = Site.objects.filter(Q(name=name) | Q(slug=name)).first()
    if site is None:
        raise _refuse("site", f"no site named {name!r}")
    return site


def _refuse(field: str, reason: str) -> ApplicationError:
    return ApplicationError(f"{field}: {reason}", extra={"fields": {field: [reason]}})


class HardwareDeliveredSerializer(serializers.Serializer):
    site = serializers.CharField(max_length=100)
    serial = serializers.CharField(max_length=50)
    model = serializers.CharField(max_length=100, required=False)
    device = serializers.CharField(max_length=64, required=False)
    asset_tag = serializers.CharField(max_length=50, required=False)

    def validate(self, data: dict) -> dict:
        if not data.get("device") and not data.get("model"):
            raise serializers.ValidationError({"model": ["give the model, the device, or both"]})
        return data


def _model_matches(device: Device, model: str) -> bool:
    wanted = model.casefold()
    kind = device.device_type
    return wanted in {kind.model.casefold(), (kind.part_number or "").casefold(), kind.slug}


def hardware_delivered(payload: Any) -> str:
    """A router arrived at its site: record its serial (and asset tag) on the design's device
    and mark it staged. The message names the device, or only its model: then the first
    device of that model at the site still without a serial takes it. The same serial sent
    again changes nothing."""
    data = _validated(HardwareDeliveredSerializer, payload, constants.TOPIC_HARDWARE_DELIVERED)
    site = _site(data["site"])
    serial, model = data["serial"].strip(), data.get("model", "")
    devices = Device.objects.filter(site=site).select_related("device_type")
    if data.get("device"):
        device = devices.filter(name=data["device"]).first()
        if device is None:
            raise _refuse("device", f"no device named {data['device']!r} at {site}")
        if model and not _model_matches(device, model):
            raise _refuse(
                "model", f"{device} is designed as a {device.device_type.model}, not a {model}"
            )
    else:
        device = next(
            (d for d in devices.filter(serial="").order_by("name") if _model_matches(d, model)),
            None,
        )
        if device is None:
            same = devices.filter(serial=serial).first()
            if same is not None:
                return f"{serial} is already the serial of {same}: nothing to do"
            raise _refuse("model", f"no {model} at {site} is waiting for its serial")
    if device.serial == serial:
        return f"{serial} is already the serial of {device}: nothing to do"
    if device.serial:
        raise _refuse("serial", f"{device} already has serial {device.serial}")
    taken = Device.objects.filter(serial=serial).select_related("site").first()
    if taken is not None:
        raise _refuse("serial", f"already the serial of {taken} at {taken.site}")
    fields: dict[str, Any] = {"serial": serial}
    if data.get("asset_tag"):
        fields["asset_tag"] = data["asset_tag"]
    if device.status == DeviceStatus.PLANNED:
        fields["status"] = DeviceStatus.STAGED
    device_update(instance=device, **fields)
    return f"{device} at {site}: serial {serial} recorded" + (
        ", staged" if fields.get("status") else ""
    )


class SiteReadySerializer(serializers.Serializer):
    site = serializers.CharField(max_length=100)
    overwrite = serializers.BooleanField(default=False)


def site_ready(payload: Any) -> str:
    """The site's racks, power and cross-connects are done: turn it up, as ``POST
    /api/sites/{id}/turnup/`` would (the site must be approved, or failed for a retry, and
    pass its checks). A site already turning up is left alone."""
    data = _validated(SiteReadySerializer, payload, constants.TOPIC_SITE_READY)
    site = _site(data["site"])
    try:
        run = run_start(site=site, overwrite=data["overwrite"])
    except ConflictError as error:
        if "run_id" in error.extra:
            return f"{site} is already turning up (run {error.extra['run_id']}): nothing to do"
        raise
    return f"{site}: turn-up started (run {run.pk})"


HANDLERS: dict[str, Callable[[Any], str]] = {
    constants.TOPIC_HARDWARE_DELIVERED: hardware_delivered,
    constants.TOPIC_SITE_READY: site_ready,
}
