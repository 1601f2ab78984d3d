"""Reviews: a rejected label goes back to its annotator, first in their queue, with its reason."""

from __future__ import annotations

from sqlalchemy import select

from tests.review.scene import make_scene, mask_with


def _audit(action: str) -> list[dict]:  # type: ignore[type-arg]
    from app.audit.models import AuditLog
    from app.db import session_scope

    with session_scope() as session:
        return [dict(a.detail, user_id=a.user_id, entity_id=a.entity_id)
                for a in session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def test_a_rejected_label_returns_to_its_annotator_first_with_its_reason(env, backend):
    s = make_scene(review_share=1.0)
    task = s.next("ann1")
    label = s.submit("ann1", task["id"], mask_with(1, slice(4, 8)))

    pending = s.lead.get(f"{s.base}/reviews").json()["items"]
    assert [(r["task_id"], r["annotation_id"], r["status"]) for r in pending] == [(task["id"], label["id"], "pending")]
    types = {t["name"]: t["id"] for t in s.lead.get(f"{s.base}/error-types").json()["items"]}
    assert {"missed curve segment", "wrong class", "bleeding into background"} <= set(types)

    r = s.lead.post(f"{s.base}/reviews/{pending[0]['id']}/reject",
                    json={"error_type_id": types["wrong class"], "class_index": 1, "note": "that is curve-2"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"

    # The rejected label no longer counts, the task is open again, and nobody else is handed it.
    versions = s.annotators["ann1"].get(f"{s.base}/tasks/{task['id']}/annotations").json()["items"]
    assert [v["status"] for v in versions] == ["superseded"]
    others = [s.next("ann2")["id"]]
    s.submit("ann2", others[0], mask_with(0))
    others.append(s.next("ann2")["id"])
    assert task["id"] not in others

    # Its annotator gets it back first, with the rejected mask as their draft, and reads why on the task's
    # panel and in the API.
    back = s.next("ann1")
    assert back["id"] == task["id"] and back["draft"] is not None
    draft = s.annotators["ann1"].get(f"{s.base}/tasks/{task['id']}/draft")
    from app import imaging

    assert (imaging.decode_png_array(draft.content) == mask_with(1, slice(4, 8))).all()
    why = s.annotators["ann1"].get(f"/projects/{s.pid}/label/why/{task['id']}")
    assert why.status_code == 200
    assert "Sent back by a reviewer" in why.text and "wrong class" in why.text and "that is curve-2" in why.text
    reasons = s.annotators["ann1"].get(f"{s.base}/tasks/{task['id']}/rejections").json()["items"]
    assert [(x["error_type"], x["class_name"], x["note"]) for x in reasons] == [("wrong class", "curve-1",
                                                                                 "that is curve-2")]

    # Submitted again: the return is closed and the new label goes to review (always, after a rejection).
    again = s.submit("ann1", task["id"], mask_with(2, slice(4, 8)))
    assert [r["annotation_id"] for r in s.lead.get(f"{s.base}/reviews").json()["items"]
            if r["task_id"] == task["id"]] == [again["id"]]
    assert _audit("review.reject")[0]["annotator_id"] == _audit("annotation.submit")[0]["user_id"]
    assert _audit("review.reject")[0]["error_type"] == "wrong class"


def test_accept_is_recorded_and_a_review_is_decided_once(env):
    s = make_scene(review_share=1.0)
    task = s.next("ann1")
    s.submit("ann1", task["id"], mask_with(1))
    review = s.lead.get(f"{s.base}/reviews").json()["items"][0]
    assert s.lead.post(f"{s.base}/reviews/{review['id']}/accept").json()["status"] == "accepted"
    again = s.lead.post(f"{s.base}/reviews/{review['id']}/accept")
    assert again.status_code == 409 and "accepted already" in again.json()["detail"]
    assert [a["entity_id"] for a in _audit("review.accept")] == [review["id"]]
    assert s.lead.get(f"{s.base}/reviews", params={"status": "accepted"}).json()["items"][0]["id"] == review["id"]


def test_bad_reject_input_is_refused_naming_the_field_and_nothing_changes(env):
    s = make_scene(review_share=1.0)
    task = s.next("ann1")
    s.submit("ann1", task["id"], mask_with(1))
    review = s.lead.get(f"{s.base}/reviews").json()["items"][0]
    types = s.lead.get(f"{s.base}/error-types").json()["items"]
    url = f"{s.base}/reviews/{review['id']}/reject"
    r = s.lead.post(url, json={"error_type_id": types[0]["id"], "class_index": 7})
    assert r.status_code == 422 and "class_index" in r.json()["detail"]
    r = s.lead.post(url, json={"error_type_id": 999, "class_index": 1})
    assert r.status_code == 422 and "error_type_id" in r.json()["detail"]
    # Annotators cannot review, list reviews or see the taxonomy settings.
    assert s.annotators["ann2"].post(url, json={"error_type_id": types[0]["id"], "class_index": 1}).status_code == 403
    assert s.annotators["ann2"].get(f"{s.base}/reviews").status_code == 403
    assert s.lead.get(f"{s.base}/reviews").json()["items"][0]["status"] == "pending"
    assert _audit("review.reject") == []


def test_review_share_samples_none_at_zero_and_settings_are_validated(env):
    s = make_scene(review_share=0.0)
    task = s.next("ann1")
    s.submit("ann1", task["id"], mask_with(1))
    assert s.lead.get(f"{s.base}/reviews").json()["items"] == []
    for body, field in (({"review_share": 1.5}, "review_share"), ({"gold_rate": -0.1}, "gold_rate"),
                        ({"review_share": 0.5, "gold_rate": 2}, "gold_rate")):
        r = s.lead.put(f"{s.base}/quality-settings", json=body)
        assert r.status_code == 422 and field in r.json()["detail"], r.text
    assert s.lead.get(f"{s.base}/quality-settings").json() == {"review_share": 0.0, "gold_rate": 0.0}
    assert s.annotators["ann1"].put(f"{s.base}/quality-settings", json={"review_share": 1}).status_code == 403


def test_the_taxonomy_is_editable_and_keeps_one_reason(env):
    s = make_scene()
    url = f"{s.base}/error-types"
    added = s.lead.post(url, json={"name": "  missed   tick marks "})
    assert added.status_code == 201 and added.json()["name"] == "missed tick marks"
    assert s.lead.post(url, json={"name": "Wrong Class"}).status_code == 409
    assert "name" in s.lead.post(url, json={"name": " "}).json()["detail"]
    ids = [t["id"] for t in s.lead.get(url).json()["items"]]
    r = s.lead.patch(f"{url}/{ids[0]}", json={"name": "missed curve segments"})
    assert r.json()["name"] == "missed curve segments"
    for i in ids[:-1]:
        assert s.lead.patch(f"{url}/{i}", json={"active": False}).status_code == 200
    last = s.lead.patch(f"{url}/{ids[-1]}", json={"active": False})
    assert last.status_code == 409 and "active" in last.json()["detail"]
    assert [t["active"] for t in s.lead.get(url).json()["items"]] == [False] * (len(ids) - 1) + [True]
    assert len(_audit("error_type.update")) == len(ids)  # one rename and the retirements


def test_a_returned_task_its_annotator_skips_goes_back_to_everyone(env):
    s = make_scene(review_share=1.0, items=1)
    task = s.next("ann1")
    s.submit("ann1", task["id"], mask_with(1))
    review = s.lead.get(f"{s.base}/reviews").json()["items"][0]
    types = s.lead.get(f"{s.base}/error-types").json()["items"]
    s.lead.post(f"{s.base}/reviews/{review['id']}/reject", json={"error_type_id": types[0]["id"], "class_index": 1})
    assert s.annotators["ann2"].post(f"{s.base}/tasks/next").status_code == 404  # held for ann1
    assert s.next("ann1")["id"] == task["id"]
    skipped = s.annotators["ann1"].post(f"{s.base}/tasks/{task['id']}/skip", json={"reason": "cannot see it"})
    assert skipped.status_code == 200, skipped.text
    assert s.next("ann2")["id"] == task["id"]


def test_a_rejected_overlap_copy_stops_counting_and_its_replacement_is_measured_again(env):
    s = make_scene(annotators=("ann1", "ann2", "ann3"), items=2, review_share=1.0)
    r = s.lead.put(f"{s.base}/overlap", json={"overlap_share": 1.0, "overlap_k": 2, "agreement_threshold": 0.5})
    assert r.status_code == 200, r.text
    task = s.next("ann1")["id"]
    assert s.next("ann2")["id"] == task
    first = s.submit("ann1", task, mask_with(1, slice(0, 8)))["id"]
    second = s.submit("ann2", task, mask_with(1, slice(0, 8)))["id"]
    measured = s.lead.get(f"{s.base}/tasks/{task}/agreement").json()
    assert measured["mean_iou"] == 1.0 and len(measured["copies"]) == 2

    # The reviewer rejects ann1's copy (superseded as the task's latest version by ann2's, still a copy).
    review = next(r for r in s.lead.get(f"{s.base}/reviews").json()["items"] if r["annotation_id"] == first)
    types = {t["name"]: t["id"] for t in s.lead.get(f"{s.base}/error-types").json()["items"]}
    r = s.lead.post(f"{s.base}/reviews/{review['id']}/reject",
                    json={"error_type_id": types["wrong class"], "class_index": 1, "note": "rows 4-8 are curve-2"})
    assert r.status_code == 200, r.text
    assert _audit("review.reject")[-1]["overlap_copy_withdrawn"] is True

    # It no longer counts toward k: one copy left, no agreement measured on it, the task open again.
    measured = s.lead.get(f"{s.base}/tasks/{task}/agreement").json()
    assert [c["annotation_id"] for c in measured["copies"]] == [second] and measured["mean_iou"] is None
    assert measured["pairs"] == []
    # Nobody else takes the slot while it is held for ann1: ann3 is handed the other task.
    assert s.next("ann3")["id"] != task
    # ann1 gets it back first, with the reason and the rejected mask as their draft.
    back = s.next("ann1")
    assert back["id"] == task and back["draft"] is not None
    reasons = s.annotators["ann1"].get(f"{s.base}/tasks/{task}/rejections").json()["items"]
    assert [x["note"] for x in reasons] == ["rows 4-8 are curve-2"]

    # The replacement is the k-th copy again: the task is done and agreement is measured on it.
    third = s.submit("ann1", task, mask_with(1, slice(0, 4)))["id"]
    measured = s.lead.get(f"{s.base}/tasks/{task}/agreement").json()
    assert sorted(c["annotation_id"] for c in measured["copies"]) == [second, third]
    assert {(p["annotation_a_id"], p["annotation_b_id"]) for p in measured["pairs"]} <= {(third, second),
                                                                                        (second, third)}
    assert measured["mean_iou"] is not None and measured["mean_iou"] < 1.0
    from app.db import session_scope
    from app.queue.models import Task, TaskStatus

    with session_scope() as session:
        assert session.get(Task, task).status == TaskStatus.done
