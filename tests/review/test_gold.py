"""Gold tasks: scored against the known mask, and indistinguishable from any task to annotators."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from tests.factories import png_bytes
from tests.review.scene import make_scene, mask_with


def test_per_class_iou_by_hand():
    from app.review.gold import per_class_iou

    known = np.array([[1, 1, 0, 0], [255, 0, 0, 0]], dtype=np.uint8)
    answer = np.array([[1, 0, 0, 2], [1, 0, 0, 0]], dtype=np.uint8)
    # (1, 0) is unknown in the known mask: not scored. class 0: known 5 px, answer 5 px, 4 shared -> 4/6;
    # class 1: known 2, answer 1 (scored), 1 shared -> 1/2; class 2 only in the answer -> 0.
    assert per_class_iou(answer, known, (0, 0, 4, 2)) == pytest.approx({0: 4 / 6, 1: 0.5, 2: 0.0})
    # the region limits what is compared: only column 0..1 of row 0
    assert per_class_iou(answer, known, (0, 0, 2, 1)) == pytest.approx({1: 0.5, 0: 0.0})


def _audit(action: str) -> list[Any]:
    from app.audit.models import AuditLog
    from app.db import session_scope

    with session_scope() as session:
        return [(a.user_id, a.detail) for a in session.scalars(select(AuditLog).where(AuditLog.action == action))]


def test_a_gold_answer_is_scored_by_hand_and_moves_the_quality_score(env):
    s = make_scene(items=2, gold_rate=0.0)
    tasks = [q["task_id"] for q in s.lead.get(f"{s.base}/queue").json()["items"]]
    known = mask_with(1, slice(0, 4))  # class 1 on rows 0-3 (64 px), background below (192 px)
    known[15, :] = 255  # the last row is not known: not scored
    r = s.lead.post(f"{s.base}/gold", data={"task_id": str(tasks[0])},
                    files={"mask": ("k.png", png_bytes(known), "image/png")})
    assert r.status_code == 201, r.text
    gold_id = r.json()["id"]
    # The known mask is the region's label too (the lead's version); the task leaves the queue.
    versions = s.lead.get(f"{s.base}/tasks/{tasks[0]}/annotations").json()["items"]
    assert [v["status"] for v in versions] == ["submitted"] and versions[0]["id"] == r.json()["source_annotation_id"]
    assert s.lead.put(f"{s.base}/quality-settings", json={"gold_rate": 1.0}).status_code == 200

    copy = s.next("ann1")  # the gold region's own task, labeled already, handed out as an open one
    assert copy["id"] == tasks[0] and copy["item_id"] == r.json()["item_id"] and copy["status"] == "open"
    s.submit("ann1", copy["id"], mask_with(1, slice(0, 6)))  # class 1 on rows 0-5
    # class 1: 64 shared of 96 -> 2/3; background: rows 6-14 shared (144) of rows 4-14 known (176) -> 9/11
    expected = (2 / 3 + 9 / 11) / 2
    row = s.lead.get(f"{s.base}/gold").json()["items"][0]
    assert (row["id"], row["answers"]) == (gold_id, 1) and row["mean_iou"] == pytest.approx(expected)
    user_id, detail = _audit("gold.score")[0]
    assert detail["per_class_iou"] == pytest.approx({"0": 9 / 11, "1": 2 / 3}, abs=1e-5)
    assert [d["task_id"] for _, d in _audit("gold.create")] == [tasks[0]]

    quality = s.lead.get(f"{s.base}/quality-scores").json()["items"]
    assert [(q["username"], q["gold_count"], q["evidence"]) for q in quality] == [("ann1", 1, 1)]
    assert quality[0]["gold_mean"] == pytest.approx(expected)
    assert quality[0]["score"] == pytest.approx((expected + 2.5) / 6)
    assert quality[0]["top_tier"] is False  # one answer is not enough evidence
    # The same annotator is not given the same gold task twice; a gold answer is not sampled for review.
    assert s.next("ann1")["id"] in tasks
    assert s.lead.get(f"{s.base}/reviews").json()["items"] == []
    # The gold region is scored with the open tasks, so each model version has a suggestion for it.
    from app.db import session_scope
    from app.queue import service as queue_service

    with session_scope() as session:
        assert tasks[0] in queue_service.open_pool_task_ids(session=session, project_id=s.pid)
    # The answer measures the annotator: training and exports keep the region's known mask.
    from app.annotations import service as annotation_service
    from app.items.models import Split

    answer_id = s.lead.get(f"{s.base}/tasks/{copy['id']}/annotations").json()["items"][-1]["id"]
    with session_scope() as session:
        trained = annotation_service.labeled_set(session=session, project_id=s.pid, split=Split.pool)
        exported = annotation_service.submitted_by_item(session=session, project_id=s.pid, splits=(Split.pool,))
    assert answer_id not in trained.annotation_ids
    assert answer_id not in [a.id for _, annotations in exported for a in annotations]
    # ... and the region's own label stays its label: still submitted, trained on and exported.
    versions = s.lead.get(f"{s.base}/tasks/{tasks[0]}/annotations").json()["items"]
    assert [(v["id"], v["status"]) for v in versions] == [(r.json()["source_annotation_id"], "submitted"),
                                                          (answer_id, "gold")]
    assert r.json()["source_annotation_id"] in trained.annotation_ids
    # Annotators cannot list gold tasks or read their known masks.
    assert s.annotators["ann1"].get(f"{s.base}/gold").status_code == 403
    assert s.annotators["ann1"].get(f"{s.base}/gold/{gold_id}/mask").status_code == 403


def _shape(value: Any) -> Any:
    """The JSON's keys and value types, recursively."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def _urls_without_ids(task: dict[str, Any]) -> dict[str, Any]:
    import re

    return {k: re.sub(r"\d+", "N", str(v)) for k, v in task.items() if k.endswith("url")}


def _task_ids(pid: int) -> dict[int, int]:
    """Task id -> item id, every task of the project."""
    from app.db import session_scope
    from app.queue.models import Task

    with session_scope() as session:
        return {t: i for t, i in session.execute(select(Task.id, Task.item_id).where(Task.project_id == pid))}


def test_gold_tasks_look_like_any_other_task_to_annotators(env, backend):
    from tests.browser.labeling_helpers import fake_ranked_model

    s = make_scene(items=3, gold_rate=0.0)
    fake_ranked_model(s.pid)
    first = s.next("ann2")
    label = s.submit("ann2", first["id"], mask_with(2, slice(2, 5)))
    promoted = s.lead.post(f"{s.base}/gold/promote", json={"annotation_id": label["id"]})
    assert promoted.status_code == 201, promoted.text
    assert s.lead.post(f"{s.base}/gold/promote", json={"annotation_id": label["id"]}).status_code == 409

    all_ids = _task_ids(s.pid)
    s.lead.put(f"{s.base}/quality-settings", json={"gold_rate": 1.0})
    assert s.next("ann2")["id"] != first["id"]  # who labeled the region would know it: never theirs as gold
    gold = s.next("ann1")
    gold_submit = s.submit("ann1", gold["id"], mask_with(1))
    s.lead.put(f"{s.base}/quality-settings", json={"gold_rate": 0.0})
    plain = s.next("ann1")
    plain_submit = s.submit("ann1", plain["id"], mask_with(1))

    # Ids, ordering and item cannot tell it: the gold task is one of the project's own tasks (no task is
    # made at lease time, so its id is not the newest), older than the plain one here, on its own item,
    # which no other task of the project shares.
    assert _task_ids(s.pid) == all_ids and gold["id"] == first["id"] and plain["id"] != first["id"]
    assert gold["id"] < plain["id"] and gold["item_id"] == first["item_id"]
    assert [t for t, item in all_ids.items() if item == gold["item_id"]] == [gold["id"]]
    assert s.annotators["ann1"].get(f"{s.base}/tasks/{gold['id']}/draft").status_code == 404  # nobody's draft
    assert _shape(gold) == _shape(plain)
    assert set(gold) == set(plain) and set(gold["why"]) == set(plain["why"])
    assert gold["status"] == plain["status"] == "open"
    assert gold["why"]["strategy"] == plain["why"]["strategy"] and gold["why"]["rank"] is not None
    assert gold["suggestion"] is not None and plain["suggestion"] is not None
    assert _urls_without_ids(gold) == _urls_without_ids(plain)
    assert _urls_without_ids(gold["image"]) == _urls_without_ids(plain["image"])
    # The submit answers, the task read back and its versions look the same too.
    assert _shape(gold_submit) == _shape(plain_submit)
    assert gold_submit["status"] == plain_submit["status"] == "submitted"
    assert (gold_submit["author_id"], gold_submit["version"]) == (plain_submit["author_id"], plain_submit["version"])
    a = s.annotators["ann1"]
    read = [a.get(f"{s.base}/tasks/{t['id']}").json() for t in (gold, plain)]
    assert _shape(read[0]) == _shape(read[1]) and read[0]["status"] == read[1]["status"] == "done"
    versions = [a.get(f"{s.base}/tasks/{t['id']}/annotations").json()["items"] for t in (gold, plain)]
    assert _shape(versions[0]) == _shape(versions[1])
    assert a.get(f"{s.base}/tasks/{gold['id']}/rejections").json()["items"] == []
    # The why panel reads the same way (a rank and reasons), with no word of gold.
    panels = [a.get(f"/projects/{s.pid}/label/why/{t['id']}").text for t in (gold, plain)]
    assert all("Ranked" in p and "gold" not in p.lower() for p in panels)


def test_bad_gold_input_is_refused_with_the_field_named(env):
    s = make_scene(items=1)
    task = s.lead.get(f"{s.base}/queue").json()["items"][0]["task_id"]
    empty = np.full((16, 16), 255, dtype=np.uint8)
    files = {"mask": ("k.png", png_bytes(empty), "image/png")}
    r = s.lead.post(f"{s.base}/gold", data={"task_id": str(task)}, files=files)
    assert r.status_code == 422 and "mask" in r.json()["detail"]
    r = s.lead.post(f"{s.base}/gold", data={"task_id": "999"}, files=files)
    assert r.status_code == 404
    assert s.lead.post(f"{s.base}/gold/promote", json={"annotation_id": 999}).status_code == 404
    assert s.lead.get(f"{s.base}/gold").json()["items"] == []
    assert s.annotators["ann1"].post(f"{s.base}/gold/promote", json={"annotation_id": 1}).status_code == 403


def test_a_retired_gold_task_is_no_longer_mixed_in(env):
    s = make_scene(items=2)
    task = s.next("ann2")
    label = s.submit("ann2", task["id"], mask_with(1, slice(0, 3)))
    gold_id = s.lead.post(f"{s.base}/gold/promote", json={"annotation_id": label["id"]}).json()["id"]
    s.lead.put(f"{s.base}/quality-settings", json={"gold_rate": 1.0})
    assert s.lead.post(f"{s.base}/gold/{gold_id}/retire").json()["active"] is False
    assert s.lead.post(f"{s.base}/gold/{gold_id}/retire").status_code == 409
    plain = s.next("ann1")
    assert plain["item_id"] != task["item_id"]  # the other item's task, not a gold copy
    assert [d for _, d in _audit("gold.retire")] == [{}]


def test_agreement_on_an_overlap_task_is_evidence_in_both_annotators_scores(env):
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects.models import Project
    from app.queue import overlap

    s = make_scene(items=1)
    with session_scope() as session:
        lead = auth_service.get_by_username(session=session, username="lead")
        overlap.set_policy(session=session, project=session.get(Project, s.pid), user=lead, share=1.0, k=2,
                           uncertainty_threshold=None, agreement_threshold=0.5)
    first, second = s.next("ann1"), s.next("ann2")
    assert first["id"] == second["id"]
    s.submit("ann1", first["id"], mask_with(1, slice(0, 4)))
    assert s.lead.get(f"{s.base}/quality-scores").json()["items"] == []  # no evidence before the k-th copy
    s.submit("ann2", first["id"], mask_with(1, slice(0, 6)))
    # class 1: 64 shared of 96 -> 2/3; background: 160 shared of 192 -> 5/6; one pair, one piece of evidence
    expected = (2 / 3 + 5 / 6) / 2
    rows = {q["username"]: q for q in s.lead.get(f"{s.base}/quality-scores").json()["items"]}
    assert set(rows) == {"ann1", "ann2"}
    for q in rows.values():
        assert (q["agreement_count"], q["gold_count"], q["evidence"]) == (1, 0, 1)
        assert q["agreement_mean"] == pytest.approx(expected)
        assert q["score"] == pytest.approx((expected + 2.5) / 6)


def test_a_flagged_gold_task_keeps_its_label_and_is_not_handed_back(env):
    s = make_scene(items=2)
    task = s.next("ann2")
    label = s.submit("ann2", task["id"], mask_with(1, slice(0, 3)))
    s.lead.post(f"{s.base}/gold/promote", json={"annotation_id": label["id"]})
    s.lead.put(f"{s.base}/quality-settings", json={"gold_rate": 1.0})
    gold = s.next("ann1")
    assert gold["id"] == task["id"] and gold["status"] == "open"
    r = s.annotators["ann1"].post(f"{s.base}/tasks/{gold['id']}/flag", json={"note": "which class is this?"})
    assert r.status_code == 200, r.text
    # The question waits for a lead; the region's label stays its label and the task stays done.
    assert s.lead.get(f"{s.base}/tasks/{task['id']}").json()["status"] == "done"
    versions = s.lead.get(f"{s.base}/tasks/{task['id']}/annotations").json()["items"]
    assert [(v["id"], v["status"]) for v in versions] == [(label["id"], "submitted")]
    assert s.next("ann1")["id"] != task["id"]  # as a flagged task leaves its annotator
