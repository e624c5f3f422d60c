"""The checks API and the approval guard through the API."""

import pytest

from tests.blueprints.helpers import build_site
from turnup.dcim.models import CredentialProfile
from turnup.ipam.models import IPAddress

pytestmark = pytest.mark.django_db


def test_site_checks_lists_findings(api_client):
    site = build_site("branch-dual", name="MAN-07")
    response = api_client.get(f"/api/sites/{site.pk}/checks/")
    assert response.status_code == 200
    body = response.json()
    assert body["passed"] is False  # no credential profile yet
    assert body["counts"]["error"] == 3
    first = body["findings"][0]
    assert set(first) == {"severity", "rule", "object_type", "object_id", "object_name", "message"}
    assert first["rule"] == "credentials"

    CredentialProfile.objects.create(name="default", is_default=True)
    body = api_client.get(f"/api/sites/{site.pk}/checks/").json()
    assert body["passed"] is True and body["counts"]["error"] == 0


def test_unknown_site_is_404(api_client):
    assert api_client.get("/api/sites/999999/checks/").status_code == 404


def test_anonymous_is_refused(client, db):
    site = build_site("branch-dual", name="MAN-07")
    assert client.get(f"/api/sites/{site.pk}/checks/").status_code in (401, 403)


def test_rules_are_listed(api_client):
    codes = {r["code"] for r in api_client.get("/api/checks/rules/").json()}
    assert {"ip-duplicate", "link-mtu", "console-path", "bgp-mismatch", "credentials"} <= codes


def test_approval_refused_through_the_api_lists_findings(api_client):
    CredentialProfile.objects.create(name="default", is_default=True)
    site = build_site("branch-dual", name="MAN-07")
    IPAddress.objects.filter(device__name="man-07-br2", role="loopback").delete()
    url = f"/api/dcim/sites/{site.pk}/transition/"
    assert api_client.post(url, {"status": "designed"}, format="json").status_code == 200
    response = api_client.post(url, {"status": "approved"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert "preflight checks found" in body["message"]
    assert any("man-07-br2" in p and "loopback" in p for p in body["extra"]["problems"])
