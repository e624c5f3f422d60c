"""Every admin page answers odd query strings and odd selections like other bad input (the
list again, with a message), never with a server error."""

import pytest

from tests import factories as f
from turnup.dcim.models import Site

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/admin/dcim/site/?status__exact=%00",
        "/admin/dcim/site/?region=a%00b",
        "/admin/ipam/prefix/?role__exact=%00",
        "/admin/core/objectchange/?action__exact=%00",
        "/admin/configs/configversion/?kind__exact=%00",
        "/admin/provisioning/step/?status__exact=%00",
        "/admin/events/inboundevent/?topic__exact=%00",
        "/admin/dcim/site/?sta%00tus=1",
    ],
)
def test_a_nul_filter_value_is_a_bad_filter(admin_client, path):
    f.SiteFactory()
    response = admin_client.get(path)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    assert admin_client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("selected", [["abc"], ["\x00"], ["1.5"], [str(2**63)], ["-1"]])
@pytest.mark.parametrize("confirmed", [True, False])
def test_an_action_on_ids_that_are_not_ids_changes_nothing(admin_client, selected, confirmed):
    site = f.SiteFactory()
    data = {"action": "delete_selected", "_selected_action": [str(site.pk), *selected]}
    if confirmed:
        data["post"] = "yes"
    else:
        data["index"] = "0"
    response = admin_client.post("/admin/dcim/site/", data, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not ids of sites:" in page
    assert "No items have been changed." in page
    assert Site.objects.filter(pk=site.pk).exists()


def test_an_action_on_good_ids_still_runs(admin_client):
    site = f.SiteFactory()
    response = admin_client.post(
        "/admin/dcim/site/",
        {"action": "delete_selected", "_selected_action": [str(site.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Site.objects.filter(pk=site.pk).exists()


@pytest.mark.parametrize("url", ["/admin/auth/user/", "/admin/auth/group/"])
def test_djangos_own_admins_take_the_same_checks(admin_client, url):
    response = admin_client.post(
        url, {"action": "delete_selected", "_selected_action": ["abc"], "index": "0"}, follow=True
    )
    assert response.status_code == 200
    assert "No items have been changed." in response.content.decode()
    assert admin_client.get(f"{url}?q=%00").status_code in (200, 302)
