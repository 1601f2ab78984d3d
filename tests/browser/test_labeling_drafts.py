"""Drafts and submits that survive reloads, a lost network, retries and refusals."""

from __future__ import annotations

import numpy as np

from tests.browser import raster
from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    READY,
    annotations,
    drag,
    make_labeling_project,
    open_labeling,
    page_labels,
    task_id,
    wait_next_task,
)

SAVED = "[data-testid=draft-status][data-state=saved]"


def test_reload_restores_the_draft_from_the_server_and_from_the_browser(live_server, page):
    pid = make_labeling_project(n=2, size=64)
    open_labeling(page, live_server, pid)
    tid = task_id(page)
    token = page.evaluate("window.labelwise.state.token")
    expected = raster.blank(64, 64)
    page.keyboard.press("1")
    drag(page, [(5, 10), (50, 10)])
    raster.stroke(expected, [(5, 10), (50, 10)], 4, 1)
    page.wait_for_selector(SAVED)  # autosaved about a second after the stroke

    # Reload with the browser copy gone: the server's draft comes back with the same client token.
    page.evaluate("localStorage.clear()")
    page.reload()
    page.wait_for_selector(READY)
    assert task_id(page) == tid
    assert np.array_equal(page_labels(page), expected)
    assert page.evaluate("window.labelwise.state.token") == token
    assert "restored from the server" in page.text_content("[data-testid=draft-status]")

    # The network drops: the draft is kept in the browser and saved once the network is back.
    page.context.set_offline(True)
    page.keyboard.press("2")
    drag(page, [(20, 30), (20, 55)])
    raster.stroke(expected, [(20, 30), (20, 55)], 4, 2)
    page.wait_for_selector("[data-testid=draft-status][data-state=local]")
    assert "offline" in page.text_content("[data-testid=draft-status]")
    page.evaluate("document.body.dispatchEvent(new Event('labelwise:submitted'))")  # a header-strip refresh
    assert page.text_content("[data-testid=labels-today]") == "0"  # kept, not failed
    screenshot(page, "draft-offline")
    page.context.set_offline(False)
    page.wait_for_selector(SAVED)

    # The server refuses drafts for a while (down); a reload restores the newer browser copy.
    page.route("**/draft", lambda route: route.abort() if route.request.method == "PUT" else route.continue_())
    page.keyboard.press("0")
    drag(page, [(40, 40), (60, 40)])
    raster.stroke(expected, [(40, 40), (60, 40)], 4, 0)
    page.wait_for_selector("[data-testid=draft-status][data-state=local]")
    page.reload()
    page.wait_for_selector(READY)
    assert task_id(page) == tid
    assert np.array_equal(page_labels(page), expected)
    assert "restored from this browser" in page.text_content("[data-testid=draft-status]")
    page.unroute("**/draft")
    page.wait_for_selector(SAVED)  # and the server gets it too

    page.keyboard.press("Enter")
    wait_next_task(page, tid)
    [(row, mask)] = annotations()
    assert np.array_equal(mask, expected)
    assert row["client_token"] == token
    # Only the browser's own lines about the loads this test breaks may reach the console.
    network_failure = ("ERR_INTERNET_DISCONNECTED", "Failed to load")
    assert all(any(mark in e for mark in network_failure) for e in page.js_errors), page.js_errors


def test_a_retried_or_doubled_submit_stores_one_annotation_and_a_refusal_keeps_the_labels(live_server, page):
    from datetime import timedelta

    from sqlalchemy import update

    from app.db import session_scope, utcnow
    from app.queue.models import Lease

    pid = make_labeling_project(n=3, size=64)
    open_labeling(page, live_server, pid)

    # 1. The response to the first submit is lost: the retry (same client token) finds the stored annotation.
    first = task_id(page)
    drag(page, [(5, 5), (30, 5)])
    lost = {"n": 0}

    def lose_first_response(route):  # type: ignore[no-untyped-def]
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # the server stores it ...
            route.abort()  # ... and the page never hears back
        else:
            route.continue_()

    page.route("**/annotations", lose_first_response)
    page.keyboard.press("Enter")
    page.wait_for_selector("#status.error")
    assert "press Enter to retry" in page.text_content("#status")
    assert len(annotations(first)) == 1
    page.keyboard.press("Enter")
    wait_next_task(page, first)
    assert "already arrived" in page.text_content("#status")
    assert len(annotations(first)) == 1
    page.unroute("**/annotations")

    # 2. Enter twice in a row: one annotation.
    second = task_id(page)
    drag(page, [(5, 20), (30, 20)])
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    wait_next_task(page, second)
    assert len(annotations(second)) == 1

    # 3. The lease ran out: the server's message is shown and nothing is cleared.
    third = task_id(page)
    drag(page, [(5, 40), (30, 40)])
    before = page_labels(page)
    with session_scope() as session:
        session.execute(update(Lease).where(Lease.task_id == third).values(expires_at=utcnow() - timedelta(seconds=1)))
    page.keyboard.press("Enter")
    page.wait_for_selector("#workspace[data-submit-error='409']")
    assert "not leased to you" in page.text_content("#status")
    assert task_id(page) == third
    assert np.array_equal(page_labels(page), before)
    screenshot(page, "submit-refused")
    assert annotations(third) == []

    # Taking it again (nobody else did) lets the same labels go in.
    page.click("#retake")
    page.wait_for_selector("#status:has-text('yours again')")
    page.keyboard.press("Enter")
    wait_next_task(page, third)
    [(_row, mask)] = annotations(third)
    assert np.array_equal(mask, before)


def test_a_draft_save_in_flight_when_submit_starts_reaches_the_server_before_the_submit(live_server, page):
    """An autosave already sent when Enter is pressed is answered before the submit is sent, so the
    submit discards it; it never lands after the submit (refused there: the lease is gone)."""
    pid = make_labeling_project(n=2, size=64)
    open_labeling(page, live_server, pid)
    tid = task_id(page)
    answered: list[tuple[str, int]] = []  # (request, HTTP status) in the order the server answered
    held: list = []  # type: ignore[type-arg]

    def hold_draft_saves(route):  # type: ignore[no-untyped-def]
        if route.request.method == "PUT":
            held.append(route)  # answered below, once the submit has had time to go out
        else:
            route.continue_()

    def pass_submits(route):  # type: ignore[no-untyped-def]
        response = route.fetch()
        answered.append(("submit", response.status))
        route.fulfill(response=response)

    page.route("**/draft", hold_draft_saves)
    page.route("**/annotations", pass_submits)
    page.keyboard.press("1")
    drag(page, [(5, 10), (50, 10)])
    for _ in range(200):  # the autosave goes out about a second after the stroke
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "no draft save was sent"
    page.keyboard.press("Enter")  # submit while that save is on its way
    page.wait_for_timeout(1500)  # long enough for a submit that does not wait to reach the server
    draft_save = held.pop()
    response = draft_save.fetch()
    answered.append(("draft", response.status))
    draft_save.fulfill(response=response)
    wait_next_task(page, tid)

    assert answered == [("draft", 200), ("submit", 201)]
    assert page.request.get(f"{live_server}/api/v1/projects/{pid}/tasks/{tid}/draft").status == 404
    assert len(annotations(tid)) == 1
    assert held == []
    assert page.js_errors == []


def test_a_second_tab_submitting_other_strokes_under_the_same_key_keeps_them(live_server, page):
    """Two tabs on one task restore the same draft (and submit key). The first submits; the second's
    different strokes are refused with the reason, stay on screen and in the browser, and are not lost."""
    pid = make_labeling_project(n=2, size=64)
    open_labeling(page, live_server, pid)
    tid = task_id(page)
    page.keyboard.press("1")
    drag(page, [(5, 10), (50, 10)])
    page.wait_for_selector(SAVED)

    second = page.context.new_page()
    second.goto(f"{live_server}/projects/{pid}/label")  # same session: the task held, the draft restored
    second.wait_for_selector(READY)
    assert task_id(second) == tid
    assert second.evaluate("window.labelwise.state.token") == page.evaluate("window.labelwise.state.token")

    page.keyboard.press("Enter")
    wait_next_task(page, tid)
    assert len(annotations(tid)) == 1

    second.keyboard.press("2")
    drag(second, [(20, 30), (20, 55)])
    expected = page_labels(second)
    second.keyboard.press("Enter")
    second.wait_for_selector("#workspace[data-submit-error=submit_key_reused]")
    status = second.text_content("#status")
    assert "different mask was already submitted" in status and "draft" in status, status
    assert second.is_hidden("#retake")  # taking the task again cannot help here
    assert task_id(second) == tid and np.array_equal(page_labels(second), expected)
    assert (expected == 2).any()
    second.wait_for_selector("[data-testid=draft-status][data-state=local]")  # kept in this browser
    kept = second.evaluate(f"Object.keys(localStorage).filter((k) => k.endsWith(':{tid}'))")
    assert kept, "the refused strokes must be kept as this browser's draft"
    assert len(annotations(tid)) == 1  # the first tab's label, nothing overwritten
    screenshot(second, "second-tab-refused")
    second.close()
