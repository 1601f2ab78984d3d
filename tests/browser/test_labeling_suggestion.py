"""The model's suggestion on the labeling page: accept one class, accept all, paint over it; the submitted
suggestion_fraction follows every edit, undo and redo. Also the confidence heatmap and region tasks."""

from __future__ import annotations

import numpy as np

from tests.browser import raster
from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    click_pixel,
    drag,
    fake_ranked_model,
    make_labeling_project,
    open_labeling,
    page_labels,
    set_size,
    suggestion_for,
    task_id,
    wait_next_task,
)


def test_accept_a_class_accept_all_edit_and_the_fraction_is_exact(live_server, page):
    pid = make_labeling_project(n=2, size=64)
    mv = fake_ranked_model(pid)
    open_labeling(page, live_server, pid)
    page.wait_for_selector("[data-testid=why-rank]")
    assert page.text_content("[data-testid=why-rank]").strip() == "1"
    tid = task_id(page)
    sug, _ = suggestion_for(64, 64)

    page.keyboard.press("2")
    page.keyboard.press("Shift+A")  # the selected class only
    expected = raster.blank(64, 64)
    expected[sug == 2] = 2
    assert np.array_equal(page_labels(page), expected)

    page.keyboard.press("a")  # the rest of the suggestion; it is all labels now, so the layer hides
    assert not page.is_checked("#show-suggestion")
    expected = sug.copy()
    from_sug = np.ones((64, 64), bool)
    assert np.array_equal(page_labels(page), expected)
    screenshot(page, "suggestion-accepted")

    # Paint over it: a curve-1 stroke, an eraser stamp (undone and redone).
    page.keyboard.press("1")
    set_size(page, 3)
    drag(page, [(4, 50), (58, 50)])
    raster.stroke(expected, [(4, 50), (58, 50)], 3, 1)
    page.keyboard.press("e")
    set_size(page, 5)
    click_pixel(page, 12, 14)
    erased = raster.stroke(expected.copy(), [(12, 14)], 5, 255)
    page.keyboard.press("Control+z")
    assert np.array_equal(page_labels(page), expected)
    page.keyboard.press("Control+Shift+z")
    expected = erased
    painted = raster.stroke(raster.blank(64, 64), [(4, 50), (58, 50)], 3, 1) != 255
    painted |= raster.stroke(raster.blank(64, 64), [(12, 14)], 5, 1) != 255
    from_sug &= ~painted
    labeled = expected != 255
    fraction = (from_sug & labeled).sum() / labeled.sum()
    assert np.array_equal(page_labels(page), expected)
    assert page.get_attribute("#workspace", "data-suggestion-fraction") == f"{fraction:.4f}"

    page.keyboard.press("Enter")
    wait_next_task(page, tid)
    assert page.is_checked("#show-suggestion")  # the next task's suggestion shows
    [(row, mask)] = annotations()
    assert np.array_equal(mask, expected)
    assert row["model_version_id"] == mv
    assert abs(row["suggestion_fraction"] - fraction) < 1e-4
    assert page.js_errors == []


def test_confidence_overlay_views_and_a_region_task(live_server, page):
    pid = make_labeling_project(n=1, size=96, tile=48)
    fake_ranked_model(pid)
    open_labeling(page, live_server, pid)
    page.wait_for_selector("[data-testid=why-rank]")
    assert "region 48×48 at 0,0" in page.text_content("#task-info")
    assert page.get_attribute("#overlay .dim", "d")  # the rest of the image is dimmed
    screenshot(page, "region-task-suggestion")

    page.keyboard.press("c")
    page.wait_for_selector("#workspace[data-confidence=ready]")
    assert page.is_visible("#confidence-legend")
    assert page.is_visible("#uncertainty-layer")
    # The heatmap follows the uncertainty PNG: left (sure) nearly clear, right (unsure) opaque.
    left, right = page.evaluate("""(() => {
        const d = document.getElementById('uncertainty-layer').getContext('2d').getImageData(0, 20, 96, 1).data;
        return [d[3], d[95 * 4 + 3]]; })()""")
    assert left < 60 < 200 < right
    screenshot(page, "region-task-confidence")
    page.keyboard.press("c")

    # Accepting the suggestion stays inside the task's region.
    page.keyboard.press("a")
    labels = page_labels(page)
    assert (labels[:48, :48] != 255).all() and (labels[48:, :] == 255).all() and (labels[:, 48:] == 255).all()

    page.keyboard.press("v")  # image only
    assert not page.is_visible("#label-layer")
    page.keyboard.press("v")  # mask only
    assert page.is_visible("#label-layer") and not page.is_visible("#image-layer")
    screenshot(page, "region-task-mask-view")
    page.keyboard.press("v")
    page.fill("#opacity", "25")
    page.dispatch_event("#opacity", "input")
    assert page.evaluate("document.getElementById('label-layer').style.opacity") == "0.25"
    screenshot(page, "region-task-accepted")
    assert page.js_errors == []
