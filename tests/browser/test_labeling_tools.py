"""Painting on the labeling page: every tool's pixels are checked exactly against tests/browser/raster.py."""

from __future__ import annotations

import numpy as np

from tests.browser import raster
from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    canvas_point,
    click_pixel,
    drag,
    make_labeling_project,
    open_labeling,
    page_labels,
    set_size,
    task_id,
    wait_next_task,
)


def test_two_classes_undo_redo_and_the_stored_mask_is_exact(live_server, page):
    pid = make_labeling_project(n=2, size=64)
    open_labeling(page, live_server, pid)
    first = task_id(page)
    expected = raster.blank(64, 64)

    page.keyboard.press("1")
    set_size(page, 5)
    drag(page, [(8, 12), (40, 12)])
    raster.stroke(expected, [(8, 12), (40, 12)], 5, 1)
    page.keyboard.press("2")
    set_size(page, 3)
    drag(page, [(30, 4), (30, 50)])
    raster.stroke(expected, [(30, 4), (30, 50)], 3, 2)
    assert np.array_equal(page_labels(page), expected)

    # A third stroke over the second, undone: the second stroke's pixels come back underneath.
    drag(page, [(5, 40), (55, 40)])
    with_third = raster.stroke(expected.copy(), [(5, 40), (55, 40)], 3, 2)
    assert np.array_equal(page_labels(page), with_third)
    page.keyboard.press("Control+z")
    assert np.array_equal(page_labels(page), expected)
    page.keyboard.press("Control+Shift+z")
    assert np.array_equal(page_labels(page), with_third)
    page.keyboard.press("Control+z")

    # The eraser: a single click is one stamp; undo + Ctrl+Y redo leaves it erased.
    page.keyboard.press("e")
    set_size(page, 4)
    click_pixel(page, 30, 12)
    raster.stroke(expected, [(30, 12)], 4, 255)
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+y")
    assert np.array_equal(page_labels(page), expected)
    screenshot(page, "tools-two-classes")

    page.keyboard.press("Enter")
    wait_next_task(page, first)
    [(row, mask)] = annotations()
    assert row["task_id"] == first
    assert np.array_equal(mask, expected)
    assert row["seconds_spent"] > 0
    assert row["suggestion_fraction"] is None  # no model: no suggestion shown
    assert page.js_errors == []


def test_zoom_and_pan_keep_painting_exact(live_server, page):
    pid = make_labeling_project(n=1, size=96)
    open_labeling(page, live_server, pid)
    fitted = page.locator("#label-layer").bounding_box()

    # Wheel zoom around the cursor: the pixel under it stays under it.
    x, y = canvas_point(page, 60, 30)
    page.mouse.move(x, y)
    for _ in range(3):
        page.mouse.wheel(0, -200)
    zoomed = page.locator("#label-layer").bounding_box()
    assert zoomed["width"] > 2 * fitted["width"]
    x2, y2 = canvas_point(page, 60, 30)
    half_pixel = zoomed["width"] / 96 / 2  # wheel events carry whole CSS pixels: stay within the same pixel
    assert abs(x2 - x) < half_pixel and abs(y2 - y) < half_pixel

    # Pan with space + drag, then with the middle button.
    page.keyboard.down("Space")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 120, y + 40, steps=4)
    page.mouse.up()
    page.keyboard.up("Space")
    moved = page.locator("#label-layer").bounding_box()
    assert abs(moved["x"] - (zoomed["x"] - 120)) < 1 and abs(moved["y"] - (zoomed["y"] + 40)) < 1
    page.mouse.move(x, y)
    page.mouse.down(button="middle")
    page.mouse.move(x + 30, y - 20, steps=3)
    page.mouse.up(button="middle")
    panned = page.locator("#label-layer").bounding_box()
    assert abs(panned["x"] - (moved["x"] + 30)) < 1 and abs(panned["y"] - (moved["y"] - 20)) < 1
    assert np.all(page_labels(page) == 255)  # panning painted nothing

    # Paint at this zoom: single pixels land exactly.
    expected = raster.blank(96, 96)
    page.keyboard.press("2")
    set_size(page, 1)
    drag(page, [(64, 28), (72, 28)])
    raster.stroke(expected, [(64, 28), (72, 28)], 1, 2)
    set_size(page, 2)
    click_pixel(page, 68, 33)
    raster.stroke(expected, [(68, 33)], 2, 2)
    assert np.array_equal(page_labels(page), expected)
    screenshot(page, "tools-zoomed")

    page.keyboard.press("-")
    page.keyboard.press("f")  # fit again
    refit = page.locator("#label-layer").bounding_box()
    assert abs(refit["width"] - fitted["width"]) < 1 and abs(refit["x"] - fitted["x"]) < 1
    assert page.js_errors == []


def test_polygon_fill_and_superpixels_in_a_region_task(live_server, page):
    from app import imaging
    from app.db import session_scope
    from app.items.models import Item
    from app.items.superpixels import decode_ids, superpixels_png
    from app.queue.models import Task

    pid = make_labeling_project(n=1, size=64, tile=40)  # tasks are 40x40 (and edge) tiles
    open_labeling(page, live_server, pid)
    tid = task_id(page)
    with session_scope() as session:
        task = session.get(Task, tid)
        region = task.region
        ids = decode_ids(imaging.decode_png_array(superpixels_png(session.get(Item, task.item_id))))
    assert region == (0, 0, 40, 40)
    expected = raster.blank(64, 64)

    # Polygon closed with Enter.
    page.keyboard.press("p")
    page.keyboard.press("1")
    for v in [(5, 5), (30, 8), (20, 30)]:
        click_pixel(page, *v)
    screenshot(page, "tools-polygon-open")
    page.keyboard.press("Enter")
    raster.polygon(expected, [(5, 5), (30, 8), (20, 30)], 1, region)
    assert np.array_equal(page_labels(page), expected)

    # A polygon cancelled with Esc changes nothing.
    click_pixel(page, 2, 2)
    click_pixel(page, 10, 2)
    page.keyboard.press("Escape")
    assert np.array_equal(page_labels(page), expected)

    # A polygon reaching outside the task region, closed by double-clicking its last vertex: clipped.
    page.keyboard.press("2")
    click_pixel(page, 30, 28)
    click_pixel(page, 39, 34)
    page.mouse.dblclick(*canvas_point(page, 33, 39))
    raster.polygon(expected, [(30, 28), (39, 34), (33, 39)], 2, region)
    assert np.array_equal(page_labels(page), expected)

    # Superpixel brush: whole superpixels under the footprint.
    page.keyboard.press("w")
    page.wait_for_selector("#workspace[data-superpixels=ready]")
    page.keyboard.press("0")
    set_size(page, 1)
    drag(page, [(6, 34), (12, 34)])
    raster.superpixel_stroke(expected, ids, [(6, 34), (12, 34)], 1, 0, region)
    assert np.array_equal(page_labels(page), expected)
    screenshot(page, "tools-superpixels")

    # Fill: the clicked pixel's 4-connected region of equal labels, inside the task region only.
    page.keyboard.press("r")
    page.keyboard.press("2")
    click_pixel(page, 38, 2)  # unlabeled background of the tile
    raster.fill(expected, 38, 2, 2, region)
    page.keyboard.press("0")
    click_pixel(page, 18, 12)  # inside the first polygon
    raster.fill(expected, 18, 12, 0, region)
    assert np.array_equal(page_labels(page), expected)

    page.keyboard.press("Enter")
    wait_next_task(page, tid)
    [(row, mask)] = annotations()
    assert np.array_equal(mask, expected)
    assert (mask[:, 40:] == 255).all() and (mask[40:, :] == 255).all()
    assert page.js_errors == []


def test_keyboard_shortcuts_and_help_overlay(live_server, page):
    pid = make_labeling_project(n=1, size=64)
    open_labeling(page, live_server, pid)
    ws = "#workspace"

    for key, cls in [("0", "0"), ("2", "2"), ("9", "2"), ("1", "1")]:  # 9: no such class, nothing changes
        page.keyboard.press(key)
        assert page.get_attribute(ws, "data-class-id") == cls
    for key, tool in [("e", "eraser"), ("r", "fill"), ("p", "polygon"), ("w", "superpixel"), ("b", "brush")]:
        page.keyboard.press(key)
        assert page.get_attribute(ws, "data-tool") == tool
        assert page.get_attribute(f".tool-btn[data-tool={tool}]", "class").endswith("active")
    page.keyboard.press("e")
    page.keyboard.press("2")  # a class key leaves the eraser for the brush
    assert page.get_attribute(ws, "data-tool") == "brush"

    set_size(page, 4)
    page.keyboard.press("]")
    page.keyboard.press("]")
    assert page.text_content("#brush-size-out") == "6"
    page.keyboard.press("[")
    assert page.text_content("#brush-size-out") == "5"

    views = []
    for _ in range(3):
        page.keyboard.press("v")
        views.append(page.get_attribute("#stage", "data-view"))
    assert views == ["image", "mask", "overlay"]
    page.keyboard.press("s")
    assert not page.is_checked("#show-suggestion")
    page.keyboard.press("s")
    assert page.is_checked("#show-suggestion")
    page.keyboard.press("c")
    assert page.is_checked("#show-confidence") and page.is_visible("#confidence-legend")
    page.keyboard.press("c")
    assert not page.is_visible("#confidence-legend")
    page.keyboard.down("h")
    assert "hide-mask" in page.get_attribute("#stage", "class")
    page.keyboard.up("h")
    assert "hide-mask" not in page.get_attribute("#stage", "class")

    drag(page, [(10, 10), (20, 10)])
    painted = page_labels(page)
    page.keyboard.press("Control+z")
    assert (page_labels(page) == 255).all()
    page.keyboard.press("Control+y")
    assert np.array_equal(page_labels(page), painted)

    page.keyboard.press("?")
    assert page.is_visible("#help-dialog")
    help_text = page.text_content("#help-dialog")
    for shortcut in ["Ctrl+Z", "Ctrl+Shift+Z", "Space + drag", "Shift+A", "0 – 9", "Esc", "Enter"]:
        assert shortcut in help_text
    screenshot(page, "help-1366x768")
    page.keyboard.press("Escape")
    assert not page.is_visible("#help-dialog")

    # Typing in a dialog is text, not shortcuts.
    page.keyboard.press("k")
    assert page.is_visible("#skip-dialog")
    page.keyboard.type("blurry")
    assert page.get_attribute(ws, "data-tool") == "brush"
    page.keyboard.press("Escape")
    page.keyboard.press("!")
    assert page.is_visible("#flag-dialog")
    page.keyboard.press("Escape")
    assert not page.is_visible("#flag-dialog")

    page.set_viewport_size({"width": 1920, "height": 1080})
    page.keyboard.press("f")
    screenshot(page, "labeling-1920x1080")
    page.keyboard.press("?")
    screenshot(page, "help-1920x1080")
    page.keyboard.press("Escape")
    assert page.js_errors == []


def test_time_on_task_excludes_idle_time(live_server, page):
    """Ten idle minutes between two strokes (a faked clock) do not count as time on the task."""
    pid = make_labeling_project(n=2, size=64)
    page.clock.install()
    open_labeling(page, live_server, pid)
    first = task_id(page)
    page.keyboard.press("1")
    drag(page, [(8, 12), (40, 12)])
    page.clock.fast_forward("10:00")
    drag(page, [(8, 30), (40, 30)])
    page.clock.fast_forward(2000)  # a busy annotator: this gap counts
    page.keyboard.press("Enter")
    wait_next_task(page, first)
    [(row, _)] = annotations()
    assert 2 <= row["seconds_spent"] < 60
    assert page.js_errors == []
