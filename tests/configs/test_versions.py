import boto3
import pytest
from botocore.config import Config

from tests.configs.samples import sample_context
from tests.factories import DeviceFactory
from turnup.configs.models import ConfigVersion
from turnup.configs.rendering import build_environment
from turnup.configs.selectors import (
    config_version_diff,
    config_version_text,
    config_versions_latest,
    render_and_lint,
)
from turnup.configs.services import config_versions_store
from turnup.core.context import bind_system_actor, unbind_actor

pytestmark = pytest.mark.django_db


def rendered_for(device, *, banner: str = "", kind: str = "full"):
    from dataclasses import replace

    context = replace(
        sample_context("cisco_iosxe", "edge"),
        hostname=device.name,
        device_id=device.pk,
        banner=banner,
    )
    return render_and_lint(context=context, kind=kind, env=build_environment())


def exercise_versions(device) -> tuple[ConfigVersion, ConfigVersion]:
    token = bind_system_actor("render-test")
    try:
        first = rendered_for(device, banner="v1")
        [(v1, created)] = config_versions_store(rendered=[first], site_slug="lon-01")
        assert created
        assert (v1.sha256, v1.size, v1.author) == (first.sha256, first.size, "render-test")
        assert v1.storage_path == f"configs/lon-01/{device.name}/full/{first.sha256}.txt"

        # The same text again stores nothing new.
        [(again, created)] = config_versions_store(
            rendered=[rendered_for(device, banner="v1")], site_slug="lon-01"
        )
        assert not created and again.pk == v1.pk
        assert ConfigVersion.objects.count() == 1

        [(v2, created)] = config_versions_store(
            rendered=[rendered_for(device, banner="v2")], site_slug="lon-01", design_change_id=7
        )
        assert created and v2.pk != v1.pk and v2.design_change_id == 7
    finally:
        unbind_actor(token)
    assert config_version_text(version=v1) == first.text
    latest = config_versions_latest(device_ids=[device.pk])
    assert latest[(device.pk, "full")].pk == v2.pk
    diff = config_version_diff(version=v2, against=v1)
    assert "-v1\n" in diff and "+v2\n" in diff
    assert diff.startswith(f"--- {device.name} full v{v1.pk}")
    return v1, v2


def test_versions_in_the_local_folder(local_storage):
    device = DeviceFactory(name="lon-01-er1")
    v1, _ = exercise_versions(device)
    assert (local_storage / v1.storage_path).read_text().startswith("hostname lon-01-er1\n")


@pytest.mark.services
def test_versions_in_s3(s3_storage):
    device = DeviceFactory(name="lon-01-er2")
    v1, v2 = exercise_versions(device)
    client = boto3.client(
        "s3",
        endpoint_url=s3_storage["endpoint_url"],
        aws_access_key_id=s3_storage["access_key"],
        aws_secret_access_key=s3_storage["secret_key"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    body = client.get_object(Bucket=s3_storage["bucket"], Key=v2.storage_path)["Body"].read()
    assert body.decode() == config_version_text(version=v2)
    assert b"\nv2\n" in body


def test_latest_versions_is_one_query(local_storage, django_assert_num_queries):
    devices = [DeviceFactory() for _ in range(3)]
    config_versions_store(
        rendered=[rendered_for(d, kind=k) for d in devices for k in ("bootstrap", "full")],
        site_slug="s",
    )
    with django_assert_num_queries(1):
        latest = config_versions_latest(device_ids=[d.pk for d in devices])
    assert len(latest) == 6
