"""The lead's quality-control pages in a browser: settings and taxonomy, gold tasks (promoted from the
review page), quality scores."""

from __future__ import annotations

from tests.browser.conftest import log_in, screenshot
from tests.factories import make_project, make_user, png_bytes
from tests.review.scene import user_client


def test_settings_gold_and_quality_pages(live_server, page):
    from app.main import create_app
    from tests.browser.test_review_page import _charts

    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",), retrain_every=1000)
    truth = _charts(pid, 3)
    ann = user_client(create_app(), "ann")
    base = f"/api/v1/projects/{pid}"

    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{pid}")
    page.click("[data-testid=desk-review-rules]")  # the project desk nav
    page.fill("[data-testid=review-share]", "1")
    page.fill("[data-testid=gold-rate]", "1.5")
    page.click("text=Save")  # the browser holds it back (max 1); the server's refusal is in tests/review
    assert page.eval_on_selector("[data-testid=gold-rate]", "e => e.validationMessage")
    screenshot(page, "qc-settings-refused")
    page.fill("[data-testid=gold-rate]", "0")
    with page.expect_navigation():
        page.click("text=Save")
    page.fill("[data-testid=new-error-type]", "tick marks labeled as curve")
    with page.expect_navigation():
        page.click("button:text-is('Add')")
    page.wait_for_selector("input[value='tick marks labeled as curve']")
    assert page.input_value("[data-testid=review-share]") == "1.0"
    screenshot(page, "qc-settings")

    # A label reviewed and promoted to gold from the review page; then answered by the annotator.
    task = ann.post(f"{base}/tasks/next").json()
    r = ann.post(f"{base}/tasks/{task['id']}/annotations",
                 files={"mask": ("m.png", png_bytes(truth[task["item_id"] - 1]), "image/png")})
    assert r.status_code == 201
    page.goto(f"{live_server}/projects/{pid}/reviews")
    page.click("[data-testid=start-review]")
    page.wait_for_selector("#review-canvas[data-ready=true]")
    page.click("[data-testid=accept]")
    page.goto(f"{live_server}/projects/{pid}/reviews")
    page.click("text=#1")
    page.click("[data-testid=promote-gold]")
    page.wait_for_url(f"{live_server}/projects/{pid}/gold")
    assert page.locator("[data-testid=gold-tasks] tbody tr").count() == 1
    screenshot(page, "qc-gold")

    page.context.clear_cookies()
    make_user("ann2")
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects import service as project_service
    from app.projects.models import Project

    with session_scope() as session:
        project = session.get(Project, pid)
        project_service.add_member(session=session, project=project,
                                   user=auth_service.get_by_username(session=session, username="ann2"))
        project.gold_rate = 1.0
    ann2 = user_client(create_app(), "ann2")
    copy = ann2.post(f"{base}/tasks/next").json()
    answer = truth[copy["item_id"] - 1].copy()
    answer[answer == 2] = 0  # curve-2 missed entirely
    assert ann2.post(f"{base}/tasks/{copy['id']}/annotations",
                     files={"mask": ("m.png", png_bytes(answer), "image/png")}).status_code == 201

    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{pid}/gold")
    assert page.inner_text("[data-testid=gold-tasks] tbody tr td:nth-child(6)") == "1"
    page.click("[data-testid=desk-scores]")  # the desk nav holds the quality links
    page.wait_for_selector("[data-testid=quality]")
    row = page.inner_text("[data-testid=quality] tbody tr")
    assert "ann2" in row and "not enough evidence" in row
    screenshot(page, "qc-quality")
    assert page.js_errors == []
