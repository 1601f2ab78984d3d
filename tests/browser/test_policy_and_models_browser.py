"""The lead's sampling-policy and model-versions pages in Chromium: change the policy with a reason,
see a refusal on the page, promote a held-back version, and the stop advice's curve drawn by uPlot
(under the real CSP: no inline script)."""

from __future__ import annotations

from tests.browser.conftest import log_in, screenshot
from tests.factories import make_project, make_user
from tests.scenes import add_tiny_tasks, scored_versions


def _strict_page(browser):  # type: ignore[no-untyped-def]
    """A page under the app's real CSP (the shared fixture bypasses it for Playwright's waits)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return context, page, errors


def test_policy_settings_page(live_server, browser):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    add_tiny_tasks(pid, 3, size=48)
    context, page, errors = _strict_page(browser)
    try:
        log_in(page, live_server, "lead")
        page.goto(f"{live_server}/projects/{pid}")
        page.click("[data-testid=desk-policy]")  # the project desk nav
        page.wait_for_selector("#policy-form")
        # a tile larger than the images: refused on the page, naming the field, what was typed kept
        page.check("input[name=unit][value=tiles]")
        page.fill("input[name=task_tile]", "64")
        page.fill("input[name=weight_class_boost]", "2")
        page.fill("input[name=reason]", "tiles for the long charts")
        page.click("#policy-form button[type=submit]")
        page.wait_for_selector("#policy-error")
        assert "task_tile" in page.text_content("#policy-error") and "48x48" in page.text_content("#policy-error")
        assert page.input_value("input[name=weight_class_boost]") == "2"
        screenshot(page, "policy-refused")
        # a good change: saved as v2 and listed with who and why
        page.fill("input[name=task_tile]", "32")
        page.select_option("select[name=retrain_trigger]", "both")
        page.fill("input[name=retrain_hours]", "24")
        page.click("#policy-form button[type=submit]")
        page.wait_for_selector("#policy-saved")
        assert "policy v2" in page.text_content("#policy-saved")
        row = page.locator("#policy-history tr[data-version='2']")
        assert "tiles for the long charts" in row.text_content() and "lead" in row.text_content()
        assert "tiles of 32 px" in row.text_content() and "every 24 h" in row.text_content()
        assert page.input_value("input[name=weight_class_boost]") == "2"
        screenshot(page, "policy-saved")
        page.locator("#policy-history").scroll_into_view_if_needed()
        screenshot(page, "policy-history")
    finally:
        context.close()
    # Chromium logs the refused form's 422 answer as a failed load; nothing else may show up
    assert [e for e in errors if "422" not in e] == []


def test_model_versions_page(live_server, browser):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    scored_versions(pid, [0.40, 0.50, 0.501, 0.502, 0.45], tasks=3, live=4, held_back=(5,))
    context, page, errors = _strict_page(browser)
    try:
        log_in(page, live_server, "lead")
        page.goto(f"{live_server}/projects/{pid}")
        page.click("[data-testid=desk-models]")
        page.wait_for_selector("#model-versions")
        page.wait_for_selector("#evidence-chart[data-drawn='1'] canvas")  # uPlot drew the curve
        assert page.get_attribute("tr[data-version='5']", "data-state") == "held back"
        assert "Labels have stopped paying" in page.text_content("#stop-advice")
        screenshot(page, "model-versions")
        page.click("[data-testid=promote-v5]")
        page.wait_for_selector("#models-done")
        assert page.get_attribute("tr[data-version='5']", "data-state") == "live"
        assert page.get_attribute("tr[data-version='4']", "data-state") == "ready"
        assert page.locator("[data-testid=rollback-v4]").count() == 1
        screenshot(page, "model-versions-promoted")
        page.click("[data-testid=rollback-v2]")
        page.wait_for_selector("#models-done")
        assert page.get_attribute("tr[data-version='2']", "data-state") == "live"
        # the overview shows the switch: the queue re-ranked by v2 (the worker ran the re-rank)
        page.goto(f"{live_server}/projects/{pid}")
        page.wait_for_selector("h1")
        assert "(live)" in page.text_content("[data-testid=overview-models]")
    finally:
        context.close()
    assert errors == []
