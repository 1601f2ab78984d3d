"""The lead's dashboard in Chromium: every chart drawn by uPlot, HTMX refreshes, a CSV, the alert form
refusing a webhook inside the network; and the guidelines page."""

from __future__ import annotations

from tests.browser.conftest import log_in, screenshot
from tests.dashboards.desk_scene import seed_desk
from tests.factories import png_bytes


def chart_image():  # type: ignore[no-untyped-def]
    from app.learning.welllog import generate_dataset

    return generate_dataset(1, seed=4, size=64)[0][0]

CHARTS = ("efficiency", "iou", "calibration", "mix", "mix_classes", "throughput", "queue")


def test_the_dashboard_draws_every_chart_refreshes_and_downloads(live_server, page):
    pid = seed_desk()
    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{pid}")
    page.click("text=Dashboard")
    page.wait_for_url(f"{live_server}/projects/{pid}/dashboard")
    for name in CHARTS:
        page.wait_for_selector(f"[data-testid=chart-{name}] .uplot canvas")
    assert page.locator(".uplot").count() == len(CHARTS)
    caption = " ".join(page.text_content("[data-testid=chart-efficiency] .caption").split())
    assert "ranked picks +0.00714" in caption and "random share +0.03571" in caption
    assert "ECE 0.120 before and 0.030 after" in " ".join(page.text_content("[data-testid=chart-calibration]").split())
    assert "No open breaches." in page.text_content("[data-testid=breach-list]")
    screenshot(page, "dashboard-charts")
    page.screenshot(path="test-artifacts/dashboard-full.png", full_page=True)

    # "Refresh all": HTMX swaps every card for a fresh one, which the module draws again.
    page.evaluate("document.querySelector('[data-testid=chart-queue]').dataset.old = 'yes'")
    page.click("[data-testid=refresh-all]")
    page.wait_for_selector("[data-testid=chart-queue]:not([data-old]) .uplot canvas")
    assert page.locator(".uplot").count() == len(CHARTS)

    csv = page.request.get(f"{live_server}/projects/{pid}/dashboard/queue.csv")
    assert csv.status == 200 and csv.text().splitlines()[0] == "age,open_tasks"
    assert page.get_attribute("[data-testid=csv-queue]", "href") == f"/projects/{pid}/dashboard/queue.csv"

    # A webhook into the private network is refused, naming the field; what was typed stays.
    page.fill("[data-testid=alerts-form] input[name=max_open_age_hours]", "24")
    page.fill("[data-testid=alerts-form] input[name=webhook_url]", "http://10.0.0.7/hook")
    page.click("[data-testid=alerts-form] button[type=submit]")
    page.wait_for_selector("[data-testid=alerts-error]")
    assert "webhook_url:" in page.text_content("[data-testid=alerts-error]")
    assert page.input_value("[data-testid=alerts-form] input[name=webhook_url]") == "http://10.0.0.7/hook"
    page.locator("#alerts").scroll_into_view_if_needed()
    screenshot(page, "dashboard-alerts-refused")
    page.fill("[data-testid=alerts-form] input[name=webhook_url]", "")
    page.click("[data-testid=alerts-form] button[type=submit]")
    page.wait_for_url(f"{live_server}/projects/{pid}/dashboard#alerts")
    assert page.input_value("[data-testid=alerts-form] input[name=max_open_age_hours]") == "24"
    # The refused form's 422 is the only thing Chromium logged: no script error.
    assert [e for e in page.js_errors if "status of 422" not in e] == []  # type: ignore[attr-defined]


def test_a_lead_edits_the_guidelines_in_the_browser(live_server, page):
    seed_desk()
    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/1/guidelines")
    page.fill("[data-testid=guideline-text]", "Trace **every** curve.\n\n- skip the grid\n- <b>not bold</b>")
    page.click("text=Save as a new version")
    page.wait_for_selector("[data-testid=guideline-current] strong")
    current = page.text_content("[data-testid=guideline-current]")
    assert "every" in current and "<b>not bold</b>" in current
    assert "v1" in page.text_content("h1")
    # An example image with a caption, shown under the text.
    page.set_input_files("input[name=image]", files=[{"name": "curve.png", "mimeType": "image/png",
                                                      "buffer": png_bytes(chart_image())}])
    page.fill("input[name=caption]", "a curve crossing the grid")
    page.click("text=Add example")
    page.wait_for_selector(".guideline-examples img")
    # the element comes before its pixels: wait for the load, or a busy machine reads naturalWidth 0
    page.wait_for_function("document.querySelector('.guideline-examples img').complete")
    assert page.evaluate("document.querySelector('.guideline-examples img').naturalWidth") == 64
    assert "a curve crossing the grid" in page.text_content(".guideline-examples")
    screenshot(page, "guidelines-edit")
    assert page.js_errors == []  # type: ignore[attr-defined]
