"""The lead's desk in a browser: create a project, set a budget that stops the queue, read the burn-down,
and label the validation split in the labeling page's validation mode."""

from __future__ import annotations

from datetime import timedelta

from tests.browser.conftest import log_in, screenshot
from tests.browser.labeling_helpers import READY, drag, make_labeling_project, open_labeling, task_id
from tests.factories import make_user


def test_a_lead_creates_a_project_and_fixes_a_refused_form(live_server, page):
    make_user("lead", "lead")
    make_user("ann")
    log_in(page, live_server, "lead")
    page.click("[data-testid=new-project-link]")
    page.wait_for_url(f"{live_server}/projects/new")
    page.fill("input[name=name]", "Road survey")
    page.fill("textarea[name=description]", "Aerial tiles, roads and cars")
    names = page.locator("input[name=class_name]")
    names.nth(1).fill("road")
    names.nth(2).fill("Road")  # a duplicate (names are compared without case)
    page.locator("input[name=class_color]").nth(1).fill("#ff8800")
    page.select_option("select[name=strategy]", "entropy")
    page.fill("input[name=validation_share]", "0.2")
    screenshot(page, "lead-new-project-form")
    page.click("form[data-testid=new-project] button[type=submit]")
    error = page.text_content("[data-testid=form-error]")
    assert "classes" in error and "unique" in error and "'Road'" in error
    assert page.input_value("input[name=name]") == "Road survey"  # what was typed is kept
    screenshot(page, "lead-new-project-refused")
    # The refused form is answered 422, which Chromium logs as a failed load: expected, nothing else is.
    assert all("422" in e for e in page.js_errors), page.js_errors
    page.js_errors.clear()
    page.locator("input[name=class_name]").nth(2).fill("car")
    page.click("form[data-testid=new-project] button[type=submit]")
    page.wait_for_selector("[data-testid=created]")
    assert page.get_attribute("[data-testid=import-link]", "href").endswith("/import")
    assert page.locator(".tabs a.active").text_content().strip() == "General"
    screenshot(page, "lead-settings-general")
    page.click(".tabs a:has-text('Classes')")
    assert page.locator("input[name=class_name]").nth(2).input_value() == "car"
    screenshot(page, "lead-settings-classes")

    # Members: add the annotator as a reviewer.
    page.click(".tabs a:has-text('Members')")
    page.fill("form[data-testid=add-member] input[name=username]", "ann")
    page.select_option("form[data-testid=add-member] select[name=role]", "reviewer")
    page.click("form[data-testid=add-member] button[type=submit]")
    page.wait_for_selector("[data-testid=saved]")
    assert page.locator("tr[data-username=ann] select").input_value() == "reviewer"
    screenshot(page, "lead-members-tab")

    # The new project is on the list, with its classes' swatches.
    page.click("a.brand")
    assert "Road survey" in page.text_content(".cards")
    assert page.locator(".card .swatch").count() == 3
    assert not page.js_errors, page.js_errors


def test_budget_caps_stop_the_labeling_page_and_the_burn_down_draws(live_server, page, browser):
    from app.auth.models import User
    from app.budgets import service as budget_service
    from app.db import session_scope, utcnow
    from app.projects.models import Project

    pid = make_labeling_project(n=4, size=64)
    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{pid}")
    page.click("[data-testid=desk-settings]")  # the project desk nav
    page.click(".tabs a:has-text('Budget')")
    page.fill("input[name=label_budget]", "0")
    page.fill("input[name=annotator_day_labels]", "1")
    page.click("form[data-testid=budget-form] button[type=submit]")
    assert "label_budget must be at least 1" in page.text_content("[data-testid=form-error]")
    page.js_errors.clear()  # the 422 answer to the refused form
    page.fill("input[name=label_budget]", "20")
    today = utcnow().date()
    page.fill("input[name=plan_start]", (today - timedelta(days=2)).isoformat())
    page.fill("input[name=plan_end]", (today + timedelta(days=7)).isoformat())
    page.click("form[data-testid=budget-form] button[type=submit]")
    page.wait_for_selector("[data-testid=saved]")
    screenshot(page, "lead-budget-tab")

    # An annotator labels one task; the per-annotator cap of 1 then stops the queue, and the page says why.
    ann_context = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    ann = ann_context.new_page()
    open_labeling(ann, live_server, pid)
    first = task_id(ann)
    drag(ann, [(5, 5), (40, 5)])
    ann.keyboard.press("g")
    ann.keyboard.press("Enter")
    ann.wait_for_function("document.querySelector('#status').textContent.includes('daily cap')", timeout=15000)
    status = ann.text_content("#status")
    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d")
    assert "Your daily cap of 1 label is reached" in status and f"resets at {tomorrow} 00:00 UTC" in status, status
    ann.reload()
    ann.wait_for_selector("[data-testid=cap-reached]")
    assert "Your daily cap of 1 label" in ann.text_content("[data-testid=cap-reached]")
    screenshot(ann, "annotator-daily-cap-reached")
    ann_context.close()
    assert first

    # The burn-down: 1 of 20 spent, the plan's line and the chart drawn.
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = session.query(User).filter_by(username="lead").one()
        budget_service.save(session=session, project=project, by=lead, values={"total_hours": 2})
    page.goto(f"{live_server}/projects/{pid}/burndown")
    page.wait_for_selector("[data-chart='0'][data-ready=true]")
    page.wait_for_selector("[data-chart='1'][data-ready=true]")
    assert page.text_content("[data-testid=spent-labels]").strip() == "1"
    assert page.text_content("[data-testid=left-labels]").strip() == "19"
    assert page.locator(".burndown .uplot").count() == 2
    screenshot(page, "lead-burndown")
    assert not page.js_errors, page.js_errors


def test_the_lead_labels_the_validation_split_in_validation_mode(live_server, page):
    from sqlalchemy import select

    from app.db import session_scope
    from app.items.models import Item, Split

    pid = make_labeling_project(n=4, size=64)
    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{pid}/settings/validation")
    page.fill("input[name=validation_share]", "0.5")
    page.click("form[data-testid=redraw] button[type=submit]")
    page.wait_for_selector("[data-testid=saved]")
    assert page.text_content("[data-testid=held-out]").strip() == "2"
    screenshot(page, "lead-validation-tab")
    page.click("[data-testid=label-validation]")
    page.wait_for_selector(READY)
    assert "Validation mode" in page.text_content("[data-testid=validation-mode]")
    page.wait_for_selector("[data-testid=why-validation]")  # no ranking's reasons for a validation image
    with session_scope() as session:
        held_out = set(session.scalars(select(Item.id).where(Item.project_id == pid,
                                                             Item.split == Split.validation)))
    item = task_id(page)
    item_id = int(page.text_content("#task-info").split("item ")[1].split(" ")[0])
    assert item_id in held_out
    drag(page, [(5, 5), (40, 5)])
    page.keyboard.press("g")
    screenshot(page, "lead-validation-mode")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('#workspace').dataset.taskId !== '{item}'", timeout=15000)
    second = int(page.text_content("#task-info").split("item ")[1].split(" ")[0])
    assert second in held_out and second != item_id
    assert not page.js_errors, page.js_errors
