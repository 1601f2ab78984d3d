from __future__ import annotations

import numpy as np
from sqlalchemy import select

from tests.browser.conftest import log_in, screenshot
from tests.factories import make_project, make_user


def add_charts(pid: int, n: int, size: int) -> None:
    from app.db import session_scope
    from app.flows import uploads
    from app.items.models import Split
    from app.learning.welllog import generate_dataset
    from app.projects.models import Project

    with session_scope() as session:
        project = session.get(Project, pid)
        for i, (img, _mask) in enumerate(generate_dataset(n, seed=11, size=size)):
            uploads.add_image(session=session, project=project, filename=f"c{i}.png", pixels=img,
                               split=Split.pool, user=None)


def stored_masks() -> list[np.ndarray]:
    from app.annotations import service
    from app.annotations.models import Annotation
    from app.db import session_scope

    with session_scope() as session:
        return [service.load_mask(a) for a in session.scalars(select(Annotation).order_by(Annotation.id))]


def canvas_point(page, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Image pixel (x, y) -> page coordinates of that pixel's centre on the label canvas."""
    box = page.locator("#label-layer").bounding_box()
    w = page.evaluate("document.getElementById('label-layer').width")
    h = page.evaluate("document.getElementById('label-layer').height")
    return box["x"] + (x + 0.5) * box["width"] / w, box["y"] + (y + 0.5) * box["height"] / h


def test_log_in_paint_a_stroke_submit_and_the_mask_has_the_pixels(live_server, page):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",), retrain_every=100)
    add_charts(pid, 2, size=128)

    log_in(page, live_server, "ann")
    screenshot(page, "projects")
    page.click("text=Start labeling")
    page.wait_for_selector("#workspace[data-ready=true]")
    screenshot(page, "labeling-empty-task")

    page.keyboard.press("2")  # class curve-2 by its number key
    page.fill("#brush-size", "3")
    page.dispatch_event("#brush-size", "input")
    x0, y = canvas_point(page, 20, 40)
    x1, _ = canvas_point(page, 100, 40)
    page.mouse.move(x0, y)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x0 + (x1 - x0) * i / 20, y)
    page.mouse.up()
    screenshot(page, "labeling-stroke")
    first_task = page.get_attribute("#label-layer", "data-task-id")
    page.click("#submit")
    page.wait_for_function(f"document.getElementById('label-layer').dataset.taskId !== '{first_task}'")
    # The header strip (HTMX) counts the label without a reload.
    page.wait_for_function("document.querySelector('[data-testid=labels-today]').textContent.trim() === '1'")
    screenshot(page, "labeling-next-task")

    masks = stored_masks()
    assert len(masks) == 1
    mask = masks[0]
    assert mask.shape == (128, 128)
    assert (mask[40, 22:99] == 2).all()  # the stroke's pixels, in the chosen class
    assert set(np.unique(mask)) == {2, 255}  # nothing else painted
    assert (mask[30:35] == 255).all() and (mask[45:50] == 255).all()
    assert page.js_errors == []


def test_suggestion_overlay_accept_and_submit(live_server, page):
    from app import demo

    # A trained, ranked model via the same loop the demo runs (tiny sizes).
    cfg = demo.DemoConfig(pool_images=6, validation_images=2, size=64, seed_labels=3, retrain_every=100)
    demo.prepare_for_serving(cfg, echo=lambda _line: None)
    log_in(page, live_server, "annotator", "annotator-demo")
    page.goto(f"{live_server}/")
    page.click("text=Start labeling")
    page.wait_for_selector("#workspace[data-ready=true]")
    page.wait_for_selector("[data-testid=why-rank]")
    assert page.text_content("[data-testid=why-rank]").strip() == "1"
    screenshot(page, "labeling-suggestion")
    page.keyboard.press("a")  # accept the suggestion
    page.keyboard.press("g")  # the rest is background
    task_id = page.get_attribute("#label-layer", "data-task-id")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.getElementById('label-layer').dataset.taskId !== '{task_id}'")

    from app import imaging, storage
    from app.annotations.models import Annotation
    from app.db import session_scope
    from app.modeling import suggestions
    from app.queue.models import Task

    with session_scope() as session:
        annotation = session.scalars(select(Annotation).where(Annotation.task_id == int(task_id))).one()
        task = session.get(Task, int(task_id))
        suggestion = imaging.decode_png_array(storage.read(
            suggestions.suggestion_path(task.project_id, annotation.model_version_id, task.item_id, "mask")))
        stored = storage.read(annotation.mask_path)
        fraction = annotation.suggestion_fraction
    assert np.array_equal(imaging.decode_png_array(stored), suggestion)
    assert fraction == 1.0
    assert page.js_errors == []
