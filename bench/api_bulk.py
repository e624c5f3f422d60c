"""Bulk API benchmark on PostgreSQL (issue 3): prints one JSON object.

Through the REST API in-process (DRF's test client: the whole view, serializer, service and
SQL path, without the HTTP socket): create 200 devices, then 4,800 interfaces in one bulk
call; allocate 1,000 IPs one by one and 1,000 in one call; list every interface in pages of
1,000; filter one device's interfaces. The change log is written for every object (counted).
"""

from __future__ import annotations

import json
import statistics
import time

from _django import max_rss_mb, throwaway_database, timed

DEVICES, INTERFACES_PER_DEVICE, IPS = 200, 24, 1000
TARGETS = {
    "interfaces_bulk_create_s": 2.0,
    "interface_page_1000_s": 0.150,
    "device_interfaces_filter_s": 0.020,
    "ip_allocate_1000_single_s": 10.0,
}


def main() -> dict:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from turnup.core.models import ObjectChange
    from turnup.dcim.models import DeviceRole, DeviceType, Manufacturer, Platform, Site
    from turnup.ipam.models import Prefix

    user = get_user_model().objects.create_superuser("bench", password="bench-only-pw")
    client = APIClient()
    client.force_authenticate(user)

    maker = Manufacturer.objects.create(name="Bench Networks", slug="bench-networks")
    device_type = DeviceType.objects.create(manufacturer=maker, model="BX-24", slug="bench-bx-24")
    role = DeviceRole.objects.get_or_create(slug="edge", defaults={"name": "Edge"})[0]
    platform = Platform.objects.get(slug="cisco_iosxe")
    site = Site.objects.create(name="BENCH-01", slug="bench-01")

    def post(url, payload):
        response = client.post(url, payload, format="json")
        assert response.status_code == 201, (url, response.status_code, response.content[:500])
        return response.json()

    seconds_devices, devices = timed(
        post,
        "/api/dcim/devices/",
        [
            {
                "name": f"r{n:03}",
                "site": site.pk,
                "device_type": device_type.pk,
                "role": role.pk,
                "platform": platform.pk,
            }
            for n in range(DEVICES)
        ],
    )
    interfaces = [
        {"device": device["id"], "name": f"GigabitEthernet0/0/{n}", "type": "1000base-t"}
        for device in devices
        for n in range(INTERFACES_PER_DEVICE)
    ]
    changes_before = ObjectChange.objects.count()
    seconds_interfaces, _ = timed(post, "/api/dcim/interfaces/", interfaces)
    logged_interfaces = ObjectChange.objects.count() - changes_before

    pages, offset = [], 0
    while True:
        started = time.perf_counter()
        response = client.get(f"/api/dcim/interfaces/?limit=1000&offset={offset}")
        pages.append(time.perf_counter() - started)
        body = response.json()
        offset += len(body["results"])
        if not body["next"]:
            break

    one_device = devices[len(devices) // 2]["id"]
    filters = []
    for _ in range(21):
        started = time.perf_counter()
        response = client.get(f"/api/dcim/interfaces/?device_id={one_device}")
        filters.append(time.perf_counter() - started)
        assert response.json()["count"] == INTERFACES_PER_DEVICE

    pool = Prefix.objects.create(prefix="10.0.0.0/16")
    url = f"/api/ipam/prefixes/{pool.pk}/available-ips/"
    started = time.perf_counter()
    for _ in range(IPS):
        post(url, {})
    seconds_single = time.perf_counter() - started
    bulk_pool = Prefix.objects.create(prefix="10.1.0.0/16")
    seconds_bulk, allocated = timed(
        post, f"/api/ipam/prefixes/{bulk_pool.pk}/available-ips/", [{} for _ in range(IPS)]
    )
    assert len(allocated) == IPS

    results = {
        "devices_bulk_create_s": round(seconds_devices, 3),
        "interfaces_bulk_create_s": round(seconds_interfaces, 3),
        "interfaces_created": len(interfaces),
        "interfaces_per_s": round(len(interfaces) / seconds_interfaces),
        "change_log_rows_for_interfaces": logged_interfaces,
        "interface_page_1000_s": round(statistics.median(pages), 4),
        "interface_pages": len(pages),
        "device_interfaces_filter_s": round(statistics.median(filters), 4),
        "ip_allocate_1000_single_s": round(seconds_single, 3),
        "ip_allocate_1000_bulk_s": round(seconds_bulk, 3),
    }
    results["targets_met"] = {key: results[key] <= limit for key, limit in TARGETS.items()}
    return results


if __name__ == "__main__":
    with throwaway_database() as database:
        output = {"benchmark": "api_bulk", "database": database, **main()}
        output["max_rss_mb"] = max_rss_mb()
    print(json.dumps(output, indent=2))
