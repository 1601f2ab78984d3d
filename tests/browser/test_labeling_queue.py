"""Skip with a reason, flag to the escalation queue, an empty queue, and the header strip."""

from __future__ import annotations

from sqlalchemy import select

from tests.browser.conftest import log_in, screenshot
from tests.browser.labeling_helpers import drag, make_labeling_project, open_labeling, task_id, wait_next_task


def test_skip_with_a_reason_and_flag_into_the_escalation_queue(live_server, page, browser):
    from app.db import session_scope
    from app.queue.models import Skip, Task, TaskStatus

    pid = make_labeling_project(n=3, size=64, budget=40)
    open_labeling(page, live_server, pid)
    # 40 left as the page was rendered; 39 once the strip refreshed (this annotator's task is in progress).
    assert page.text_content("[data-testid=budget-left]").strip() in ("40", "39")
    assert "40" in page.text_content("#stats")

    # N with a task open and nothing painted neither skips nor submits: it says what to do.
    page.keyboard.press("n")
    assert not page.is_visible("#skip-dialog")
    assert "Paint something first" in page.text_content("#status")

    # Skip: K, a reason chip, confirm.
    skipped = task_id(page)
    page.keyboard.press("k")
    page.click("#skip-dialog .chip >> nth=0")
    assert page.input_value("#skip-reason") == "The image is unreadable"
    screenshot(page, "skip-dialog")
    page.click("#skip-dialog button[type=submit]")
    wait_next_task(page, skipped)
    flagged = task_id(page)
    assert flagged != skipped  # oldest first, but not the one this annotator skipped
    assert "Skipped" in page.text_content("#status")

    # Flag: an empty note is refused by the form; a note goes through.
    drag(page, [(5, 5), (20, 5)])
    page.keyboard.press("!")
    page.click("#flag-dialog button[type=submit]")
    assert page.is_visible("#flag-dialog")  # required note
    page.fill("#flag-note", "Two curves cross here: which one is curve-1?")
    screenshot(page, "flag-dialog")
    page.keyboard.press("Control+Enter")
    wait_next_task(page, flagged)
    assert "Flagged" in page.text_content("#status")
    last = task_id(page)
    assert last not in (skipped, flagged)

    with session_scope() as session:
        [skip] = session.scalars(select(Skip)).all()
        assert (skip.task_id, skip.reason) == (skipped, "The image is unreadable")
        assert session.get(Task, flagged).status == TaskStatus.escalated

    # The lead sees it in the escalation queue, with the note.
    lead = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    lead_page = lead.new_page()
    log_in(lead_page, live_server, "lead")
    lead_page.goto(f"{live_server}/projects/{pid}/escalations")
    row = lead_page.locator(f"tr[data-task-id='{flagged}']")
    assert "Two curves cross here" in row.text_content()
    screenshot(lead_page, "escalations")
    lead.close()

    # Header strip: refreshed by HTMX after a submit, without a reload.
    drag(page, [(5, 5), (20, 5)])
    page.keyboard.press("Enter")
    page.wait_for_selector("#workspace[data-ready=empty]")
    page.wait_for_function("document.querySelector('[data-testid=budget-left]').textContent.trim() === '39'")
    page.wait_for_function("document.querySelector('[data-testid=labels-today]').textContent.trim() === '1'")
    assert page.is_visible("#empty")
    assert "every task is labeled, leased, flagged for review or skipped by you" in page.text_content("#empty")
    assert page.is_disabled("#undo") and page.is_disabled("#submit")  # nothing to undo or submit
    screenshot(page, "queue-empty")
    page.keyboard.press("n")  # look again: still empty
    page.wait_for_selector("#workspace[data-ready=empty]")
    # The only console error: the browser logging the empty queue's 404 from /tasks/next.
    assert all("404" in e for e in page.js_errors)
