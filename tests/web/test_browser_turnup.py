"""Browser test of a whole turn-up: start it from the site page, watch the board update
without reloading, and see every router reach "live" — against the built-in lab, through
the real Celery graph run by a worker in this process (the provisioning tests' fixtures)."""

from __future__ import annotations

import pytest

from tests.provisioning.conftest import (  # noqa: F401 - fixtures used by name
    approved_site,
    lab_of,
    storage,
    worker,
)

from .test_browser import CHROMIUM, browser_page, log_in, shot  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("seeded_transactional_db"),
    pytest.mark.slow,
]


def test_turnup_from_the_board_against_the_lab(browser_page, worker, lab_of):  # noqa: F811
    from turnup.provisioning.models import Run

    page = browser_page
    site = approved_site("WEB-01", edges=2, baud=115200)
    lab_of(site)
    log_in(page)
    page.goto(f"/sites/{site.slug}/runs/")
    shot(page, "20-turnup-start")
    page.click("#start-turnup")
    page.wait_for_url("**/runs/*/")
    run = Run.objects.get(site=site)
    cards = page.locator("#board article.dev")
    assert cards.count() == 3
    # the board updates itself: wait for a router to be running, then for the run to settle
    page.wait_for_selector("#board article.dev.running", timeout=60_000)
    shot(page, "21-turnup-board-running")
    page.wait_for_selector("#board[data-settled='1']", timeout=240_000)
    shot(page, "22-turnup-board-done")
    # a router that failed (a fault on its line) is retried from the board, only it
    for attempt in range(2):
        if page.locator("#board article.dev.failed").count() == 0:
            break
        shot(page, f"23-turnup-board-failed-{attempt + 1}")
        page.click("#retry-failed")
        page.wait_for_selector(".msg.success")
        page.wait_for_selector("#board[data-settled='1']", timeout=240_000)
    statuses = [cards.nth(i).get_attribute("data-status") for i in range(cards.count())]
    results = [cards.nth(i).locator(".result").inner_text() for i in range(cards.count())]
    assert statuses == ["succeeded"] * 3, results
    shot(page, "24-turnup-board-live")
    labels = {cards.nth(i).locator(".badge").inner_text() for i in range(cards.count())}
    assert labels == {"Live"}
    run.refresh_from_db()
    assert run.status == "succeeded"
    page.goto(f"/sites/{site.slug}/")
    assert page.locator("ol.lifecycle li.current").inner_text() == "Live"
    shot(page, "25-site-live")
    page.goto("/")
    shot(page, "26-dashboard")
