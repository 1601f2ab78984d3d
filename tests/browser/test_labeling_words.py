"""The labeling page read as a person: Next and its key, messages that clear, versions as "v1"."""

from __future__ import annotations

from sqlalchemy import select

from tests.browser.conftest import screenshot
from tests.browser.labeling_helpers import (
    annotations,
    drag,
    fake_ranked_model,
    make_labeling_project,
    open_labeling,
    task_id,
    wait_next_task,
)


def test_next_button_and_n_submit_and_move_on_and_messages_clear(live_server, page):
    pid = make_labeling_project(n=2, size=64)
    fake_ranked_model(pid)
    open_labeling(page, live_server, pid)
    assert page.is_visible("#next")
    assert page.text_content("#next-label") == "Submit & next"

    # N with nothing painted: neither a skip dialog nor a submit, a message saying what to do...
    first = task_id(page)
    page.keyboard.press("n")
    assert not page.is_visible("#skip-dialog")
    assert "Paint something first" in page.text_content("#status")
    screenshot(page, "words-next-paint-first")
    # ...which goes once something is painted.
    drag(page, [(5, 5), (20, 5)])
    page.wait_for_function("document.getElementById('status').textContent === ''")
    screenshot(page, "words-next-message-cleared")

    # N with labels: submit and next.
    page.keyboard.press("n")
    wait_next_task(page, first)
    assert [a["task_id"] for a, _ in annotations()] == [first]
    assert page.text_content("#status") == "Saved."
    drag(page, [(5, 8), (20, 8)])  # the previous task's "Saved." goes at the first edit of this one
    page.wait_for_function("document.getElementById('status').textContent === ''")

    # The visible button does the same; with the queue empty it reads "Next" and asks the queue again.
    second = task_id(page)
    page.click("#next")
    page.wait_for_selector("#workspace[data-ready=empty]")
    assert [a["task_id"] for a, _ in annotations()] == [first, second]
    assert page.text_content("#next-label") == "Next"
    screenshot(page, "words-next-empty")
    page.click("#next")
    page.wait_for_selector("#workspace[data-ready=empty]")
    assert all("404" in e for e in page.js_errors)

    # Versions read as "v1" wherever a person reads them.
    page.goto(f"{live_server}/projects/{pid}")
    text = page.text_content("main")
    assert "ranked by model v1" in text and "version id" not in text


def add_annotator(pid: int, username: str) -> None:
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects import service
    from app.projects.models import Project
    from tests.factories import make_user

    make_user(username)
    with session_scope() as session:
        user = auth_service.get_by_username(session=session, username=username)
        project = session.get(Project, pid)
        assert user is not None and project is not None
        service.add_member(session=session, project=project, user=user)


def test_header_strip_counts_the_annotators_own_labels_and_the_budget_left(live_server, page, browser):
    pid = make_labeling_project(n=4, size=64, budget=10)
    add_annotator(pid, "ann2")

    # ann2 labels two tasks in another browser.
    other = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    page2 = other.new_page()
    open_labeling(page2, live_server, pid, user="ann2")
    for _ in range(2):
        t = task_id(page2)
        drag(page2, [(5, 5), (20, 5)])
        page2.keyboard.press("Enter")
        wait_next_task(page2, t)
    page2.click("#skip")  # hand the open one back, so only labels count against the budget below
    page2.fill("#skip-reason", "not mine")
    page2.click("#skip-dialog button[type=submit]")
    page2.wait_for_function("document.getElementById('status').textContent.startsWith('Skipped')")
    other.close()

    # ann has labeled nothing yet: own counts 0, the project's figures on hover.
    open_labeling(page, live_server, pid)
    assert page.text_content("[data-testid=labels-today]").strip() == "0"
    assert page.text_content("[data-testid=labels-week]").strip() == "0"
    hover = page.get_attribute("[data-testid=own-counts]", "title")
    assert "2 labels today" in hover and "2 this week" in hover
    t = task_id(page)
    drag(page, [(5, 5), (20, 5)])
    page.keyboard.press("Enter")
    wait_next_task(page, t)
    page.wait_for_function("document.querySelector('[data-testid=labels-today]').textContent.trim() === '1'")
    assert page.text_content("[data-testid=labels-week]").strip() == "1"
    hover = page.get_attribute("[data-testid=own-counts]", "title")
    assert "3 labels today" in hover and "3 this week" in hover and "3 in all" in hover
    # Budget 10: 3 labeled and one in progress (ann2 still holds the task it took after skipping) leave 6.
    assert page.text_content("[data-testid=budget-left]").strip() == "6"
    assert "3 labeled, 1 being labeled" in page.get_attribute("[data-testid=budget]", "title")
    page.hover("[data-testid=own-counts]")
    screenshot(page, "words-header-strip")


def ranked_with(pid: int, picks: list[tuple[str, dict]]) -> list[int]:  # type: ignore[type-arg]
    """A ready model v1 ranking the project's tasks (oldest first) with these (strategy, components);
    its suggestion is suggestion_for's mask with the model unsure only on curve-2's pixels. Task ids."""
    import numpy as np

    from app import imaging, storage
    from app.db import session_scope
    from app.items.models import Item
    from app.modeling import suggestions
    from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
    from app.queue.models import Task
    from tests.browser.labeling_helpers import suggestion_for

    with session_scope() as session:
        mv = ModelVersion(project_id=pid, version=1, status=ModelStatus.ready, weights_path=None,
                          metrics={"miou_fg": 0.42, "class_weights": [0.2, 1.0, 1.8]})
        session.add(mv)
        session.flush()
        for item in session.scalars(select(Item).where(Item.project_id == pid)):
            mask, _ = suggestion_for(item.width, item.height)
            unsure = np.where(mask == 2, 230, 20).astype(np.uint8)
            for kind, pixels in (("mask", mask), ("uncertainty", unsure)):
                storage.write_atomic(suggestions.suggestion_path(pid, mv.id, item.id, kind), imaging.encode_png(pixels))
        tasks = list(session.scalars(select(Task).where(Task.project_id == pid).order_by(Task.id)))
        for rank, (task, (strategy, components)) in enumerate(zip(tasks, picks, strict=True), start=1):
            session.add(Score(task_id=task.id, model_version_id=mv.id, value=1.0 / rank, strategy=strategy,
                              components=components, rank=rank))
        session.add(ScoringRun(project_id=pid, model_version_id=mv.id, chunks_total=1, chunks_done=1,
                               tasks_total=len(tasks), status=ScoringRunStatus.ranked))
        return [t.id for t in tasks]


def reasons_shown(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.wait_for_selector("[data-testid=why-reasons]")
    return [t.strip() for t in page.locator("[data-testid=why-reasons] li").all_text_contents()]


def test_why_this_task_in_words_for_an_uncertainty_a_diversity_and_a_random_pick(live_server, page):
    pid = make_labeling_project(n=3, size=64)
    ids = ranked_with(pid, [
        ("entropy", {"entropy_weighted": 0.61, "entropy": 0.4, "bald_weighted": 0.03, "class_boost": 0.1,
                     "fg_fraction": 0.2}),
        ("hybrid", {"uncertainty": 0.4, "diversity": 1.0, "class_boost_norm": 0.0, "entropy_weighted": 0.3,
                    "bald_weighted": 0.02, "class_boost": 0.01, "fg_fraction": 0.2}),
        ("hybrid", {"steered_random": 1.0, "entropy_weighted": 0.1, "bald_weighted": 0.01, "fg_fraction": 0.2}),
    ])
    open_labeling(page, live_server, pid)

    # An uncertainty pick: the class the model doubts, by name; hovering outlines where.
    assert task_id(page) == ids[0]
    assert reasons_shown(page) == ["The model is unsure about curve-2 here."]
    assert "v1" in page.text_content("#why .lead") and "version id" not in page.text_content("#why")
    assert not page.is_visible("#why dl.components")  # the numbers wait behind a disclosure
    page.hover("[data-testid=why-reasons] li >> nth=0")
    spot = page.locator("#overlay .spotlight")
    page.wait_for_function("!document.querySelector('#overlay .spotlight').classList.contains('hidden')")
    x, y, w, h = (int(spot.get_attribute(k)) for k in ("x", "y", "width", "height"))
    assert x < 40 and x + w > 20 and y < 45 and y + h > 30  # on curve-2's block (x 20-40, y 30-45)
    screenshot(page, "words-why-uncertainty-hover")
    page.click("#why details summary")
    assert page.is_visible("#why dl.components") and "entropy weighted" in page.text_content("#why dl")
    screenshot(page, "words-why-numbers")
    page.hover("#submit")
    page.wait_for_function("document.querySelector('#overlay .spotlight').classList.contains('hidden')")

    # A hybrid pick carried by diversity first, doubt second.
    drag(page, [(5, 5), (20, 5)])
    page.keyboard.press("n")
    wait_next_task(page, ids[0])
    page.wait_for_function("document.querySelector('[data-testid=why-rank]')?.textContent.trim() === '2'")
    assert reasons_shown(page) == ["Few labeled images look like this one.", "The model is unsure about curve-2 here."]
    assert page.get_attribute("[data-testid=why-reasons] li >> nth=0", "data-box") == "0 0 64 64"
    screenshot(page, "words-why-diversity")

    # A pick of the random share says so, and nothing else.
    drag(page, [(5, 5), (20, 5)])
    page.keyboard.press("n")
    wait_next_task(page, ids[1])
    page.wait_for_function("document.querySelector('[data-testid=why-rank]')?.textContent.trim() === '3'")
    assert reasons_shown(page) == ["Picked at random to keep the queue honest: the model did not choose it."]
    screenshot(page, "words-why-random")
    assert "gold" not in page.text_content("#why").lower()
    assert page.js_errors == []


OVERLAY_ALPHA = """(() => {
  const c = document.getElementById('uncertainty-layer');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return Array.from({length: c.width}, (_, x) => d[4 * (20 * c.width + x) + 3]);
})()"""


def test_the_overlay_is_clear_where_the_model_is_sure_and_tinted_where_it_is_not(live_server, page):
    import numpy as np

    from tests.browser.labeling_helpers import suggestion_for

    pid = make_labeling_project(n=1, size=64)
    fake_ranked_model(pid)
    open_labeling(page, live_server, pid)
    page.wait_for_selector("#workspace[data-confidence=ready]")
    _, unsure = suggestion_for(64, 64)  # doubt ramps from 0 (left) to 255 (right)
    doubt = unsure[20].astype(int)

    page.keyboard.press("c")
    legend = page.text_content("#confidence-legend")
    assert "Model uncertainty" in legend and "sure" in legend and "unsure" in legend and "confidence" not in legend
    alpha = np.array(page.evaluate(OVERLAY_ALPHA))
    threshold = round(2.55 * 35)  # the slider's default, 35 % of the scale
    assert (alpha[doubt <= threshold] == 0).all()  # sure pixels: fully transparent
    assert (alpha[doubt > threshold] > 100).all()  # unsure ones: a clear tint
    assert alpha[0] == 0 and alpha[-1] > 200  # deeper where the model is less sure
    screenshot(page, "words-overlay-threshold-35")

    # The threshold slider moves the line.
    page.fill("#doubt-threshold", "80")
    page.dispatch_event("#doubt-threshold", "input")
    alpha = np.array(page.evaluate(OVERLAY_ALPHA))
    threshold = round(2.55 * 80)
    assert (alpha[doubt <= threshold] == 0).all() and (alpha[doubt > threshold] > 100).all()
    assert alpha[30] == 0 and doubt[30] > round(2.55 * 35)  # tinted before, clear now
    assert page.text_content("#doubt-threshold-out") == "80%"

    # U: pan and zoom to the area of most doubt (the rightmost blocks), outlined.
    page.keyboard.press("c")  # overlay off: U turns it back on
    before = page.text_content("#zoom-level")
    page.keyboard.press("u")
    assert page.is_checked("#show-confidence")
    spot = page.locator("#overlay .spotlight")
    assert int(spot.get_attribute("x")) == 56  # 8 px blocks: the one at x 56-63 has the most doubt
    assert page.text_content("#zoom-level") != before
    screenshot(page, "words-overlay-jump")
    assert page.js_errors == []


def test_a_leads_answer_to_a_flag_reaches_the_next_annotator_and_the_guidelines(live_server, page, browser):
    from tests.browser.conftest import log_in

    pid = make_labeling_project(n=2, size=64)
    add_annotator(pid, "ann2")
    open_labeling(page, live_server, pid)
    assert not page.is_visible("[data-testid=guidelines]")  # none yet
    flagged = task_id(page)
    page.keyboard.press("!")
    page.fill("#flag-note", "Two curves cross here: which one is curve-1?")
    page.keyboard.press("Control+Enter")
    wait_next_task(page, flagged)

    # The lead answers on the escalations page (markup in the answer stays text), then promotes it.
    lead = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    lead_page = lead.new_page()
    log_in(lead_page, live_server, "lead")
    lead_page.goto(f"{live_server}/projects/{pid}/escalations")
    row = lead_page.locator(f"#escalations tr[data-task-id='{flagged}']")
    row.locator("input[name=resolution]").fill("Curve-1 is the left trace <b>where they cross</b>")
    row.locator("button[type=submit]").click()
    lead_page.wait_for_selector("#escalations [data-testid=promote]")
    assert "back in the queue" in lead_page.text_content("#escalations")
    lead_page.click("#escalations [data-testid=promote]")
    lead_page.wait_for_selector("[data-testid=promoted]")
    assert "In the guidelines (v1)" in lead_page.text_content("[data-testid=promoted]")
    lead_page.reload()
    assert "In the guidelines" in lead_page.text_content(f"#answered tr[data-task-id='{flagged}']")
    screenshot(lead_page, "words-escalations-answered")
    lead.close()

    # The next annotator on that task reads the question and the answer, escaped, and the guidelines.
    other = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    page2 = other.new_page()
    # The guidelines are new to ann2: the labeling page asks them to read and confirm v1 first.
    log_in(page2, live_server, "ann2")
    page2.goto(f"{live_server}/projects/{pid}/label")
    page2.wait_for_selector("[data-testid=guidelines-gate]:visible")
    assert "confirm guidelines v1 first" in page2.text_content("[data-testid=guidelines-gate]")
    screenshot(page2, "words-guidelines-gate")
    page2.click("[data-testid=guidelines-gate] a")
    page2.click("[data-testid=confirm-guidelines]")
    page2.wait_for_url(f"{live_server}/projects/{pid}/label")
    page2.wait_for_selector("#workspace[data-ready=true]")
    assert task_id(page2) == flagged
    page2.wait_for_selector("[data-testid=flag-answers]")
    answers = page2.text_content("[data-testid=flag-answers]")
    assert "Two curves cross here: which one is curve-1?" in answers
    assert "lead: Curve-1 is the left trace <b>where they cross</b>" in " ".join(answers.split())
    assert page2.locator("[data-testid=flag-answers] b").count() == 1  # only the lead's name is bold
    page2.click("[data-testid=guidelines] summary")
    guide = page2.text_content("[data-testid=guidelines]")
    assert "Curve-1 is the left trace <b>where they cross</b>" in guide and "v1" in guide
    assert page2.locator("[data-testid=guidelines] li").count() == 1
    screenshot(page2, "words-flag-answer-and-guidelines")
    other.close()
