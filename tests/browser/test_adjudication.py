"""The adjudication view in Chromium: copies side by side, the difference coloured by annotator with
per-class toggles, merge per class with its preview, and a redrawn mask; screenshots in test-artifacts/."""

from __future__ import annotations

import numpy as np

from tests.agreement.scene import disputed_task
from tests.browser.conftest import log_in, screenshot

U = 255


def _expected_diff(a: np.ndarray, b: np.ndarray, shown: set[int]) -> tuple[int, int, int]:
    """(only alice, only bob, different classes) as the page counts them."""
    differs = a != b
    a_shown, b_shown = np.isin(a, list(shown)), np.isin(b, list(shown))
    return (int((differs & a_shown & ~b_shown).sum()), int((differs & b_shown & ~a_shown).sum()),
            int((differs & a_shown & b_shown).sum()))


def _counts(page, scene) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    return (int(page.text_content(f"[data-testid=diff-count-{scene.copies['alice']}]")),
            int(page.text_content(f"[data-testid=diff-count-{scene.copies['bob']}]")),
            int(page.text_content("[data-testid=diff-mixed]")))


def _open(page, base: str, scene) -> None:  # type: ignore[no-untyped-def]
    log_in(page, base, "lead")
    page.goto(f"{base}/projects/{scene.project_id}")
    page.click("[data-testid=desk-adjudication]")  # the project desk nav
    page.wait_for_selector(f"#disagreements tr[data-task-id='{scene.task_id}']")
    screenshot(page, "adjudication-queue")
    page.click(f"#disagreements tr[data-task-id='{scene.task_id}'] >> text=Adjudicate")
    page.wait_for_selector("#adjudicate[data-ready=true]", timeout=15000)


def _painted(page, selector: str, color: str) -> int:  # type: ignore[no-untyped-def]
    """Pixels of a canvas whose colour is close to `color` (#rrggbb blended over anything)."""
    return int(page.eval_on_selector(selector, """(c, hex) => {
        const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 90) n++;
        }
        return n; }""", color))


def test_side_by_side_difference_and_merge_per_class(live_server, page):
    from app.annotations import service as annotation_service
    from app.db import session_scope
    from app.items.models import Split

    scene = disputed_task()
    alice, bob = scene.masks["alice"], scene.masks["bob"]
    _open(page, live_server, scene)
    assert not page.js_errors, page.js_errors

    # Side by side: alice's copy shows curve-2 (blue), bob's has none.
    a_canvas = f"canvas[data-copy='{scene.copies['alice']}']"
    b_canvas = f"canvas[data-copy='{scene.copies['bob']}']"
    assert _painted(page, a_canvas, "#1f77d4") > 0 and _painted(page, b_canvas, "#1f77d4") == 0
    # Difference with the foreground classes shown (background hidden by default)
    assert _counts(page, scene) == _expected_diff(alice, bob, {1, 2})
    assert sum(_counts(page, scene)) > 0
    screenshot(page, "adjudication-side-by-side")
    page.locator("#diff-canvas").scroll_into_view_if_needed()
    screenshot(page, "adjudication-difference")

    # Per-class toggles: hide curve-2, show background
    page.check("#class-toggles input[data-class='0']")
    page.uncheck("#class-toggles input[data-class='2']")
    assert _counts(page, scene) == _expected_diff(alice, bob, {0, 1})
    assert _painted(page, a_canvas, "#1f77d4") == 0  # curve-2 hidden in the copies too
    screenshot(page, "adjudication-difference-toggled")

    # Merge per class: background and curve-1 from bob, curve-2 from alice
    page.select_option("#merge-form select[data-class='0']", str(scene.copies["bob"]))
    page.select_option("#merge-form select[data-class='1']", str(scene.copies["bob"]))
    page.select_option("#merge-form select[data-class='2']", str(scene.copies["alice"]))
    assert _painted(page, "#merge-preview", "#1f77d4") > 0
    page.fill("#merge-form textarea[name=rationale]", "bob's curve-1, alice's curve-2")
    page.locator("#merge-form").scroll_into_view_if_needed()
    screenshot(page, "adjudication-merge")
    page.click("#merge-form button[type=submit]")
    page.wait_for_selector("[data-testid=resolved]")
    assert "Nothing is waiting" in page.text_content("#disagreements")
    screenshot(page, "adjudication-resolved")

    expected = np.full_like(alice, U)
    expected[bob == 0] = 0
    expected[bob == 1] = 1
    expected[alice == 2] = 2
    with session_scope() as session:
        trained = annotation_service.labeled_set(session=session, project_id=scene.project_id, split=Split.pool)
        versions = annotation_service.versions(session=session, task_id=scene.task_id)
    assert versions[-1].adjudicated and trained.annotation_ids == [versions[-1].id]
    assert np.array_equal(trained.masks[0], expected)
    assert not page.js_errors, page.js_errors


def test_redraw_on_the_canvas(live_server, page):
    from app.agreement import adjudication
    from app.annotations import service as annotation_service
    from app.db import session_scope

    scene = disputed_task()
    _open(page, live_server, scene)
    page.select_option("#redraw-start", "")
    page.eval_on_selector("#redraw-size", "el => { el.value = '1'; }")
    page.click("#redraw-classes .class-btn[data-class='2']")
    canvas = page.locator("#redraw-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    scale = box["width"] / 64

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + (x + 0.5) * scale, box["y"] + (y + 0.5) * scale

    page.mouse.move(*at(10, 10))
    page.mouse.down()
    for x in range(11, 41):
        page.mouse.move(*at(x, 10))
    page.mouse.up()
    page.fill("#redraw-rationale", "both missed the upper curve")
    screenshot(page, "adjudication-redraw")
    page.click("#redraw-save")
    page.wait_for_selector("[data-testid=resolved]")
    with session_scope() as session:
        latest = annotation_service.versions(session=session, task_id=scene.task_id)[-1]
        mask = annotation_service.load_mask(latest)
        history = adjudication.history(session=session, task_id=scene.task_id)
    assert latest.adjudicated and history[-1].method == "redraw"
    assert history[-1].rationale == "both missed the upper curve"
    assert mask[10, 10:41].tolist() == [2] * 31 and int((mask != U).sum()) == 31
    assert not page.js_errors, page.js_errors
