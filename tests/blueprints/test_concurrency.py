"""Two sites instantiated at the same time on PostgreSQL draw distinct addresses and ASNs
from the shared pools (ipam's allocators lock the pools)."""

import threading

import pytest
from django.db import connection

from tests.conftest import require_service
from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_instantiate, blueprint_library_sync
from turnup.ipam.models import ASN, IPAddress
from turnup.routing.models import SiteRouting


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")  # the platforms, whatever ran before
def test_parallel_instantiations_get_distinct_allocations():
    require_service("POSTGRESQL")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    blueprint_library_sync()
    blueprint_instantiate(blueprint=blueprint_get(name="pop-core"), params={"name": "WARM-01"})
    names = [f"PAR-{i:02d}" for i in range(4)]
    errors = []
    barrier = threading.Barrier(len(names))

    def build(name):
        try:
            barrier.wait()
            blueprint_instantiate(blueprint=blueprint_get(name="pop-core"), params={"name": name})
        except Exception as error:  # reported below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=build, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    prefixes = list(SiteRouting.objects.values_list("mgmt_prefix__prefix", flat=True))
    assert len(prefixes) == len(set(prefixes)) == 5
    assert ASN.objects.count() == len(set(ASN.objects.values_list("asn", flat=True))) == 5
    hosts = list(IPAddress.objects.values_list("vrf_id", "host"))
    assert len(hosts) == len(set(hosts))
