"""Turning-up belongs to the turn-up engine: a person cannot move a site into or out of it
(API, PATCH); the engine's own calls (run start, retry, settle) still can."""

import pytest

from tests import factories as f
from turnup.core.errors import ApplicationError, ConflictError
from turnup.dcim import services
from turnup.dcim.models import Site

pytestmark = pytest.mark.django_db
API = "/api/dcim"


def test_a_site_turning_up_cannot_be_declared_live_or_failed_by_hand(api_client):
    site = f.SiteFactory(status="turning-up")
    for status in ("live", "failed"):
        response = api_client.post(
            f"{API}/sites/{site.pk}/transition/", {"status": status}, format="json"
        )
        assert response.status_code == 409, response.content
        body = response.json()
        assert "when its turn-up run settles" in body["message"]
        assert "cancel the run" in body["extra"]["fields"]["status"][0]
        patched = api_client.patch(f"{API}/sites/{site.pk}/", {"status": status}, format="json")
        assert patched.status_code == 409
    assert Site.objects.get(pk=site.pk).status == "turning-up"


def test_a_site_is_not_put_in_turning_up_by_hand(api_client):
    site = f.SiteFactory(status="approved")
    response = api_client.post(
        f"{API}/sites/{site.pk}/transition/", {"status": "turning-up"}, format="json"
    )
    assert response.status_code == 409
    assert f"POST /api/sites/{site.pk}/turnup/" in response.json()["message"]
    assert Site.objects.get(pk=site.pk).status == "approved"


def test_the_manual_rule_comes_after_the_allowed_transitions():
    site = f.SiteFactory(status="designed")
    with pytest.raises(ApplicationError) as caught:
        services.site_transition(site=site, to_status="live", manual=True)
    assert caught.value.status_code == 400  # not an allowed transition at all
    assert "allowed: planned, approved" in caught.value.message


def test_the_engine_still_moves_a_site_through_turning_up():
    site = f.SiteFactory(status="approved")
    with pytest.raises(ConflictError):
        services.site_transition(site=site, to_status="turning-up", manual=True)
    services.site_transition(site=site, to_status="turning-up")  # run_start
    services.site_transition(site=site, to_status="failed")  # run_settle
    services.site_transition(site=site, to_status="turning-up")  # run_retry_failed
    services.site_transition(site=site, to_status="live")  # run_settle
    assert Site.objects.get(pk=site.pk).status == "live"
    services.site_transition(site=site, to_status="designed", manual=True)  # others pass
