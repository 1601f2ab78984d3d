"""The Simulation page in Chromium, under the real Content Security Policy: reached from the desk nav, a tiny
run started from the form, its progress polled live, then its results with the fg mIoU chart drawn."""

from __future__ import annotations

import threading

import pytest

from tests.browser.conftest import log_in, screenshot
from tests.factories import make_project, make_user


@pytest.fixture(autouse=True)
def tiny_runs(monkeypatch):  # type: ignore[no-untyped-def]
    """32 px charts on one torch thread: a run of 3 trainings of 5 steps takes a second or two."""
    from app.flows import simulations

    monkeypatch.setattr(simulations, "SIZE", 32)
    monkeypatch.setattr(simulations, "THREADS", 1)


def test_a_lead_runs_a_simulation_and_reads_its_results(live_server, browser, monkeypatch):
    from app.jobs import progress

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    hold = threading.Event()
    real = progress.report

    def held(done: int, total: int | None, message: str | None = None) -> None:
        real(done, total, message)
        if done == 1:  # after the first training run, so the running card can be seen
            hold.wait(timeout=60)

    monkeypatch.setattr(progress, "report", held)
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        log_in(page, live_server, "lead")
        page.goto(f"{live_server}/projects/{pid}/dashboard")
        page.click("[data-testid=desk-simulation]")
        page.wait_for_url(f"{live_server}/projects/{pid}/simulation")
        page.fill("input[name=pool]", "8")
        page.fill("input[name=rounds]", "1")
        page.fill("input[name=steps]", "5")
        page.uncheck("input[name=strategies][value=hybrid]")
        page.click("[data-testid=simulation-start]")
        # polled live: the first training run (the full-data reference) done, the job held before the next
        page.wait_for_selector("[data-testid=sim-run][data-status=running] .job-count:has-text('1 / 3 training runs')",
                               timeout=60_000)
        assert page.get_attribute("[data-testid=sim-run] progress.job-progress", "value") == "1"
        screenshot(page, "simulation-running")
        hold.set()
        page.wait_for_selector("[data-testid=sim-run][data-status=done] .chart .uplot", timeout=60_000)
        screenshot(page, "simulation-done")
        table = page.text_content("[data-testid=sim-results]") or ""
        assert "random" in table and "4:" in table  # the second round's labeled images and its fg mIoU
        assert page.get_attribute("[data-testid=sim-download]", "href").endswith("/results.json")
    finally:
        hold.set()
        context.close()
    assert errors == [], errors
