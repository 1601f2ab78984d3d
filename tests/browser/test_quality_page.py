"""The quality page in Chromium: the per-class chart and tables, and the overlap settings form with a
refused value; screenshots in test-artifacts/."""

from __future__ import annotations

from tests.agreement.scene import disputed_task
from tests.browser.conftest import log_in, screenshot


def test_quality_page_chart_tables_and_settings(live_server, page):
    scene = disputed_task()
    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{scene.project_id}")
    page.click("[data-testid=desk-overlap]")  # the project desk nav
    page.wait_for_selector("#agreement-chart[data-ready=true] canvas")
    assert "alice · bob" in page.text_content("#worst-pairs")
    assert page.text_content("#class-agreement tr[data-class=curve-2] td:nth-child(3)").strip() == "0.000"
    screenshot(page, "quality-page")

    page.fill("input[name=overlap_k]", "5")
    page.click("#overlap-settings button[type=submit]")
    page.wait_for_selector("[data-testid=error]")
    assert "overlap_k must be between 2 and the number of project members (3)" in page.text_content(
        "[data-testid=error]")
    screenshot(page, "quality-overlap-refused")
    page.fill("input[name=overlap_k]", "3")
    page.fill("input[name=overlap_share]", "0.2")
    page.click("#overlap-settings button[type=submit]")
    page.wait_for_selector("[data-testid=saved]")
    assert page.input_value("input[name=overlap_share]") == "0.2"
    # the refused form's page came back with 422, which Chromium logs; nothing else went wrong
    assert [e for e in page.js_errors if "status of 422" not in e] == [], page.js_errors
