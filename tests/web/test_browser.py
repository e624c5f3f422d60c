"""Browser tests: Playwright (Python) driving Debian's Chromium against the live server.

An engineer logs in, creates a site from a blueprint with the wizard (a wrong parameter is
shown next to its field), sees a preflight finding and fixes it, renders configs, changes
the design and reads the side-by-side diff. Screenshots of the main pages are written to
``var/screenshots/`` (created by the tests) for a reviewer to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from turnup.dcim.models import Interface, Site
from turnup.dcim.services import device_update

from ..factories import CredentialProfileFactory, RackFactory

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("seeded_transactional_db"),
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """A Chromium page of 1440x900 with the live server's address as base URL."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1440, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # While Playwright's loop runs, Django keys its connections by that context:
            # close the ones the test body opened, or PostgreSQL keeps a session open.
            connections.close_all()


def shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # a sticky header is drawn where the page scrolled
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page) -> None:
    get_user_model().objects.create_user(username="noc", password="pw-noc-12345")
    page.goto("/sites/")
    assert "/login/" in page.url  # every page requires login
    shot(page, "00-login")
    page.fill("input[name=username]", "noc")
    page.fill("input[name=password]", "pw-noc-12345")
    page.click("button[type=submit]")
    page.wait_for_url("**/sites/")


def wizard_params(page, name: str) -> None:
    page.fill("input[name=p-name]", name)
    page.click("button[value=plan]")


def test_design_check_fix_render_and_diff(browser_page):
    page = browser_page
    CredentialProfileFactory(name="lab-routers")  # a profile exists, but no default
    log_in(page)

    # the wizard: choose, fill (a wrong name first), dry run, create
    page.click("nav.main >> text=Blueprints")
    page.wait_for_selector("[data-blueprint=pop-core]")
    shot(page, "01-blueprints")
    page.click("[data-blueprint=pop-core]")
    wizard_params(page, "london one")
    error = page.locator("[data-error-for=name]")
    assert "Must match" in error.inner_text()
    shot(page, "02-wizard-error")
    wizard_params(page, "LON-01")
    page.wait_for_selector("#plan")
    assert page.locator("#plan td.act.create").count() > 10
    shot(page, "03-wizard-plan")
    page.click("#create-site")
    page.wait_for_url("**/sites/lon-01/")
    assert "created from pop-core" in page.locator(".messages").inner_text()
    assert page.locator("#topology svg g.node").count() == 5
    site = Site.objects.get(name="LON-01")
    rack = RackFactory(site=site, name="R101", u_height=42)
    for position, name in ((38, "lon-01-cr1"), (36, "lon-01-cr2"), (30, "lon-01-er1")):
        device_update(
            instance=site.devices.get(name=name), rack=rack, position=position, face="front"
        )
    page.reload()
    shot(page, "04-site-overview")

    # preflight: no credential profile for turn-up -> an error finding; fix it in the page
    page.click("nav.tabs >> [data-tab=checks]")
    finding = page.locator("#findings tr[data-rule=credentials]")
    assert finding.count() >= 1
    assert "cannot be approved" in page.locator("#checks-verdict").inner_text()
    shot(page, "05-checks-finding")
    finding.first.locator("text=fix").click()
    page.wait_for_url("**/checks/#credentials")
    page.select_option("select[name=credential_profile]", label="lab-routers")
    page.click("#save-credentials")
    page.wait_for_selector(".msg.success")
    assert page.locator("#findings tr[data-rule=credentials]").count() == 0
    assert "Preflight passed" in page.locator("#checks-verdict").inner_text()

    # configs: render, change the design (an MTU), render again, read the diff
    page.click("nav.tabs >> [data-tab=configs]")
    page.click("#render-configs")
    page.wait_for_selector(".msg.success")
    assert page.locator("#configs >> text=not rendered").count() == 0
    shot(page, "06-configs")
    page.click("nav.tabs >> [data-tab=addressing]")
    iface = Interface.objects.filter(device__name="lon-01-cr1", cable__isnull=False).first()
    page.click(f"#if-{iface.pk} >> text=edit")
    page.fill("input[name=mtu]", "100000")
    page.click("#save-interface")
    assert page.locator("[data-error-for=mtu]").count() == 1  # the reason, next to the field
    page.fill("input[name=mtu]", "1600")
    page.click("#save-interface")
    page.wait_for_selector(f"#if-{iface.pk}")
    shot(page, "07-addressing")
    page.click("nav.tabs >> [data-tab=configs]")
    page.click("#render-configs")
    page.wait_for_selector(".msg.success")
    page.click("[data-config=lon-01-cr1-full]")
    page.wait_for_selector("#diff")
    assert page.locator("#diff td.r.add").count() >= 1
    assert "1600" in page.locator("#diff").inner_text()
    shot(page, "08-config-diff")

    # the other pages of the site, for the reviewer
    page.click("nav.crumbs >> text=LON-01")
    for tab, name in (
        ("devices", "09-devices"),
        ("racks", "10-racks"),
        ("cabling", "11-cabling"),
        ("console", "12-console-map"),
    ):
        page.click(f"nav.tabs >> [data-tab={tab}]")
        page.wait_for_selector(f"nav.tabs a.active[data-tab={tab}]")
        shot(page, name)
    assert page.locator("#console-map tbody tr").count() == 4
    page.click("nav.main >> text=IPAM")
    page.wait_for_selector("#prefix-tree")
    shot(page, "13-ipam")
    page.click("#pools >> text=10.254.0.0/16")
    page.select_option("select[name=kind]", "prefix")
    page.fill("input[name=prefix_length]", "31")
    page.click("#allocate-submit")
    assert "Allocated 1" in page.locator(".msg.success").inner_text()
    shot(page, "14-prefix-allocate")
    page.click("nav.main >> text=Dashboard")
    shot(page, "15-dashboard")


def test_fifty_device_site_topology_is_readable(browser_page):
    """An aggregation site of 50 devices: every router drawn, none on top of another."""
    from turnup.blueprints.selectors import blueprint_get
    from turnup.blueprints.services import blueprint_instantiate

    page = browser_page
    blueprint_instantiate(
        blueprint=blueprint_get(name="aggregation"),
        params={"name": "FRA-50", "edge_count": 46, "console_servers": 2},
    )
    assert Site.objects.get(name="FRA-50").devices.count() == 50
    log_in(page)
    page.goto("/sites/fra-50/")
    nodes = page.locator("#topology svg g.node")
    assert nodes.count() == 50
    boxes = [nodes.nth(i).locator("rect.box").bounding_box() for i in range(50)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart
    shot(page, "16-topology-50-devices")
    page.click("#fit-toggle")
    shot(page, "17-topology-50-devices-fit")
