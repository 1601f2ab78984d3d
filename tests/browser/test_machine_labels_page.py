"""The lead's machine-labels page, reached from the project overview: a bar outside [0, 1] is refused on
the page, a good one is saved, applying it labels the tasks above it, and the overview shows the bar."""

from __future__ import annotations

from tests.autolabel.test_machine_labels import _ranked_scene
from tests.browser.conftest import log_in, screenshot


def test_lead_sets_the_bar_applies_it_and_sees_it_on_the_overview(live_server, page):  # type: ignore[no-untyped-def]
    pid, _ = _ranked_scene([0.99] * 10 + [0.4] * 2)
    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{pid}")
    page.click("text=Machine labels: bar and audit")
    page.wait_for_url(f"{live_server}/projects/{pid}/machine-labels")
    page.fill("input[name=bar]", "1.5")
    page.click("text=Save")
    page.wait_for_selector("p.error")
    assert "bar must be in [0, 1]" in page.text_content("p.error")
    screenshot(page, "machine-labels-refused")
    page.fill("input[name=bar]", "0.9")
    page.fill("input[name=audit_share]", "0.2")
    page.click("text=Save")
    page.wait_for_selector("text=Saved.")
    page.click("text=Accept machine labels above the bar now")
    page.wait_for_selector("text=8 machine labels; 2 tasks sent to humans as audits.")
    assert "8 machine labels" in page.text_content("#autolabel-summary")
    screenshot(page, "machine-labels-applied")
    page.goto(f"{live_server}/projects/{pid}")
    assert page.text_content("[data-testid=autolabel-bar]") == "0.90"
    assert "2 audits waiting in the queue" in page.text_content("#autolabel-summary")
    screenshot(page, "machine-labels-overview")
    # the refused form answered 422 (bad input is a 4xx, rendered as the page): Chromium logs that status
    errors = [e for e in page.js_errors if "status of 422" not in e]  # type: ignore[attr-defined]
    assert errors == []
