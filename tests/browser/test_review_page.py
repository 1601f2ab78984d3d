"""The review page in a browser: the label over its image, a rejection with a reason from the taxonomy,
the error chart, and the annotator reading the reason on the labeling page."""

from __future__ import annotations

import numpy as np

from tests.browser.conftest import log_in, screenshot
from tests.factories import make_project, make_user, png_bytes
from tests.review.scene import user_client

SIZE = 96


def _charts(pid: int, n: int) -> list[np.ndarray]:
    from app.db import session_scope
    from app.flows import uploads
    from app.items.models import Split
    from app.learning.welllog import generate_dataset
    from app.projects.models import Project

    masks = []
    with session_scope() as session:
        project = session.get(Project, pid)
        for i, (img, mask) in enumerate(generate_dataset(n, seed=5, size=SIZE)):
            uploads.add_image(session=session, project=project, filename=f"c{i}.png", pixels=img, split=Split.pool,
                              user=None)
            masks.append(mask.astype(np.uint8))
    return masks


def _pixel(page, x: int, y: int) -> list[int]:  # type: ignore[no-untyped-def]
    return list(page.evaluate(f"Array.from(document.getElementById('review-canvas').getContext('2d')"
                              f".getImageData({x}, {y}, 1, 1).data)"))


def test_review_page_shows_the_mask_rejects_with_a_reason_and_the_annotator_reads_it(live_server, page):
    from app.main import create_app

    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",), retrain_every=1000)
    truth = _charts(pid, 3)
    app = create_app()
    lead, ann = user_client(app, "lead"), user_client(app, "ann")
    base = f"/api/v1/projects/{pid}"
    assert lead.put(f"{base}/quality-settings", json={"review_share": 1.0}).status_code == 200
    submitted = {}
    for _ in range(2):
        task = ann.post(f"{base}/tasks/next").json()
        mask = truth[task["item_id"] - 1].copy()
        lower = mask[SIZE // 2:, :]
        lower[lower == 1] = 0  # the lower half of curve-1 is missed
        submitted[task["id"]] = mask
        r = ann.post(f"{base}/tasks/{task['id']}/annotations", files={"mask": ("m.png", png_bytes(mask), "image/png")})
        assert r.status_code == 201, r.text

    log_in(page, live_server, "lead")
    page.goto(f"{live_server}/projects/{pid}")
    page.click("[data-testid=desk-reviews]")  # the project desk nav
    page.wait_for_selector("[data-testid=pending]")
    screenshot(page, "review-queue")
    page.click("[data-testid=start-review]")
    page.wait_for_selector("#review-canvas[data-ready=true]")
    screenshot(page, "review-page")

    # The mask is drawn over the image: a curve-1 pixel is tinted red; hiding the class untints it.
    task_id = int(page.get_attribute("#review-canvas", "data-mask").split("/tasks/")[1].split("/")[0])
    ys, xs = np.nonzero(submitted[task_id] == 1)
    scale = page.evaluate("document.getElementById('review-canvas').width") // SIZE
    x, y = int(xs[0]) * scale, int(ys[0]) * scale
    tinted = _pixel(page, x, y)
    page.uncheck(".review-class[value='1']")
    plain = _pixel(page, x, y)
    assert tinted != plain and tinted[0] > tinted[2]  # curve-1 is red (#e6194b)
    page.check(".review-class[value='1']")

    page.select_option("[data-testid=error-type]", label="missed curve segment")
    page.select_option("[data-testid=reject-class]", label="curve-1")
    page.fill("[data-testid=reject-note]", "the curve goes on to the bottom")
    screenshot(page, "review-reject-filled")
    page.click("[data-testid=reject]")
    page.wait_for_url(f"{live_server}/projects/{pid}/reviews/*")
    page.click("[data-testid=accept]")
    page.wait_for_url(f"{live_server}/projects/{pid}/reviews")
    page.wait_for_selector("[data-testid=heat-1]")
    assert page.locator("[data-testid=heat-1] td.heat-5").count() == 1
    screenshot(page, "review-queue-after")
    assert page.js_errors == []

    # The annotator gets the task back first, with the reason on the labeling page.
    page.context.clear_cookies()
    log_in(page, live_server, "ann")
    page.goto(f"{live_server}/projects/{pid}/label")
    page.wait_for_selector("#workspace[data-ready=true]")
    page.wait_for_selector("[data-testid=rejections]")
    assert "missed curve segment" in page.inner_text("[data-testid=rejections]")
    assert "the curve goes on to the bottom" in page.inner_text("[data-testid=rejections]")
    # The rejected mask is back as the annotator's draft, to fix rather than redo.
    page.wait_for_function("!document.getElementById('labeled-info').textContent.startsWith('0%')")
    screenshot(page, "labeling-returned-task")
    assert page.js_errors == []
