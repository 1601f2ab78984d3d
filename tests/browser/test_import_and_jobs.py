"""The import page in Chromium, under the real Content Security Policy: many images and a zip at once, the
upload's progress bar, then the import job's progress by HTMX polling, duplicates reported per file; and the
Jobs panel on the overview cancelling a running import."""

from __future__ import annotations

import io
import threading
import time
import zipfile

import numpy as np

from tests.browser.conftest import log_in, screenshot
from tests.factories import make_project, make_user, png_bytes


def _png(seed: int, size: int = 48) -> bytes:
    return png_bytes(np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8))


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _slow_files(monkeypatch, seconds: float, hold: threading.Event | None = None):  # type: ignore[no-untyped-def]
    """Each imported file takes `seconds` (the files here are tiny; a real import's are not), or waits for
    `hold` after the second one, so the job's progress can be seen."""
    from app.jobs import progress

    real = progress.report

    def slow(done: int, total: int | None, message: str | None = None) -> None:
        if message == "importing":
            if hold is not None and done == 2:
                hold.wait(timeout=60)
            time.sleep(seconds)
        real(done, total, message)

    monkeypatch.setattr(progress, "report", slow)


def _context(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})  # no bypass_csp: the real policy
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return context, page, errors


def test_import_page_uploads_many_files_and_a_zip_with_progress_and_reports_duplicates(live_server, browser,
                                                                                          monkeypatch):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    _slow_files(monkeypatch, 0.4)
    context, page, errors = _context(browser)
    try:
        log_in(page, live_server, "lead")
        page.goto(f"{live_server}/projects/{pid}")
        page.click(f"a[href='/projects/{pid}/import']")
        page.wait_for_url(f"{live_server}/projects/{pid}/import")
        images = [{"name": f"chart-{n}.png", "mimeType": "image/png", "buffer": _png(n)} for n in range(8)]
        images.append({"name": "chart-0-again.png", "mimeType": "image/png", "buffer": _png(0)})
        archive = _zip({"zipped-a.png": _png(20), "zipped-b.png": _png(21), "zipped-copy.png": _png(3)})
        page.set_input_files("#import-files", [*images, {"name": "more.zip", "mimeType": "application/zip",
                                                          "buffer": archive}])
        page.click("#import-submit")
        page.wait_for_selector("#upload-status:not([hidden])")
        page.wait_for_selector("li.job[data-status=running] progress.job-progress[value]", timeout=30_000)
        # First every file's checksum is compared (12 files), then the new ones are imported one by one.
        page.wait_for_selector("li.job[data-status=running] .job-message:has-text('importing')", timeout=30_000)
        screenshot(page, "import-running")
        running = page.text_content("li.job .job-count") or ""
        assert " / 10" in running, running  # 12 files, 2 of them duplicates: 10 to import
        assert page.get_attribute("#upload-progress", "value") == page.get_attribute("#upload-progress", "max")
        assert "100%" in (page.text_content("#upload-count") or "")
        page.wait_for_selector("li.job[data-status=done]", timeout=60_000)
        screenshot(page, "import-done")
        text = page.text_content("li.job") or ""
        assert "imported 10 images" in text and "2 duplicates skipped" in text
        skipped = page.locator("li.job .job-files li.skipped").all_text_contents()
        assert len(skipped) == 2
        assert any("chart-0-again.png" in s and "chart-0.png" in s and "earlier in this import" in s for s in skipped)
        assert any("zipped-copy.png" in s and "chart-3.png" in s for s in skipped)
        # The same files again: every one is a duplicate of the project's, and the page says so per file.
        page.set_input_files("#import-files", images[:3])
        page.click("#import-submit")
        page.wait_for_selector("li.job >> nth=1")
        page.wait_for_selector("#import-jobs > li.job:first-child[data-status=done]", timeout=60_000)
        first = page.locator("#import-jobs > li.job").first
        assert first.locator(".job-files li.skipped").count() == 3
        assert "already in the project" in (first.text_content() or "")
        screenshot(page, "import-duplicates")
        # A refused file: the message, and nothing imported.
        page.set_input_files("#import-files", [{"name": "notes.zip", "mimeType": "application/zip",
                                                "buffer": b"not a zip"}])
        page.click("#import-submit")
        page.wait_for_selector("#import-error:not([hidden])")
        assert "notes.zip: the file is not a zip archive" in (page.text_content("#import-error") or "")
        screenshot(page, "import-refused")
    finally:
        context.close()
    # Chromium logs the refused upload's 422 as a console error; nothing else may be.
    assert [e for e in errors if "status of 422" not in e] == [], errors


def test_jobs_panel_shows_progress_and_cancels_a_running_import(live_server, browser, monkeypatch):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    hold = threading.Event()
    _slow_files(monkeypatch, 0.05, hold)
    context, page, errors = _context(browser)
    try:
        log_in(page, live_server, "lead")
        page.goto(f"{live_server}/projects/{pid}/import")
        page.set_input_files("#import-files", [{"name": f"{n}.png", "mimeType": "image/png", "buffer": _png(n)}
                                               for n in range(6)])
        page.click("#import-submit")
        page.wait_for_selector("li.job[data-status=running]", timeout=30_000)
        page.goto(f"{live_server}/projects/{pid}")
        page.wait_for_selector("#jobs-panel li.job[data-status=running] button.job-cancel")
        screenshot(page, "jobs-panel-running")
        page.click("#jobs-panel button.job-cancel")
        page.wait_for_selector("#jobs-panel li.job .job-status:has-text('stopping')")
        hold.set()
        page.wait_for_selector("#jobs-panel li.job[data-status=cancelled]", timeout=60_000)
        screenshot(page, "jobs-panel-cancelled")
        assert "cancelled after 2 of 6" in (page.text_content("#jobs-panel li.job") or "")
        assert page.locator("#jobs-panel[hx-trigger]").count() == 0  # no more polling once nothing runs
        assert page.request.get(f"{live_server}/api/v1/projects/{pid}/items").json()["items"] == []
    finally:
        hold.set()
        context.close()
    assert errors == [], errors
