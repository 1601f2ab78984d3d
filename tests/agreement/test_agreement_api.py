"""The JSON API of overlap settings, agreement and adjudication: roles, membership, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.agreement.scene import disputed_task
from tests.factories import login, make_user, png_bytes


@pytest.fixture
def scene(client):
    return disputed_task()


def test_overlap_settings_round_trip_and_refuse_bad_input_naming_the_field(client, scene):
    pid = scene.project_id
    token = login(client, "lead")
    url = f"/api/v1/projects/{pid}/overlap"
    good = {"overlap_share": 0.25, "overlap_k": 3, "overlap_uncertainty_threshold": 0.4, "agreement_threshold": 0.6}
    r = client.put(url, json=good, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json() == good | {"enabled": True}, r.text
    for bad, field in [({"overlap_k": 4}, "overlap_k"), ({"overlap_share": -0.1}, "overlap_share"),
                       ({"overlap_uncertainty_threshold": 1.2}, "overlap_uncertainty_threshold"),
                       ({"agreement_threshold": 7}, "agreement_threshold")]:
        r = client.put(url, json=good | bad, headers={"X-CSRF-Token": token})
        assert r.status_code == 422 and field in r.json()["detail"], r.text
    assert client.get(url).json() == good | {"enabled": True}  # nothing half-applied
    assert client.put(url, json=good).status_code == 403  # no CSRF token
    login(client, "alice")
    assert client.put(url, json=good, headers={"X-CSRF-Token": login(client, "alice")}).status_code == 403


def test_agreement_summary_and_task_detail(client, scene):
    pid, tid = scene.project_id, scene.task_id
    login(client, "lead")
    summary = client.get(f"/api/v1/projects/{pid}/agreement").json()
    assert summary["measured_tasks"] == 1 and summary["below_threshold"] == 1
    by_name = {c["name"]: c for c in summary["classes"]}
    assert by_name["curve-2"]["mean_iou"] == 0.0  # bob never says curve-2
    assert summary["worst_pairs"][0]["user_a"] == "alice" and summary["worst_pairs"][0]["user_b"] == "bob"
    detail = client.get(f"/api/v1/projects/{pid}/tasks/{tid}/agreement").json()
    assert [c["author"] for c in detail["copies"]] == ["alice", "bob"]
    assert len(detail["pairs"]) == 3 and detail["worst_class"] in ("curve-1", "curve-2")
    assert [d["task_id"] for d in client.get(f"/api/v1/projects/{pid}/disagreements").json()["items"]] == [tid]


def test_annotators_and_non_members_cannot_read_or_adjudicate(client, scene):
    pid, tid = scene.project_id, scene.task_id
    make_user("outsider", "lead")
    token = login(client, "outsider")
    assert client.get(f"/api/v1/projects/{pid}/agreement").status_code == 404
    token = login(client, "alice")
    assert client.get(f"/api/v1/projects/{pid}/agreement").status_code == 403
    r = client.post(f"/api/v1/projects/{pid}/tasks/{tid}/adjudication", headers={"X-CSRF-Token": token},
                    json={"method": "pick", "annotation_id": scene.copies["alice"], "rationale": "mine"})
    assert r.status_code == 403


def test_merge_per_class_and_redraw_through_the_api(client, scene):
    pid, tid = scene.project_id, scene.task_id
    token = login(client, "lead")
    url = f"/api/v1/projects/{pid}/tasks/{tid}/adjudication"
    r = client.post(url, headers={"X-CSRF-Token": token}, json={
        "method": "merge", "rationale": "r", "classes": {"curve-9": scene.copies["bob"]}})
    assert r.status_code == 422 and "classes" in r.json()["detail"] and "curve-9" in r.json()["detail"]
    r = client.post(url, headers={"X-CSRF-Token": token}, json={
        "method": "merge", "rationale": "alice's curves, bob's background",
        "classes": {"background": scene.copies["bob"], "curve-1": scene.copies["alice"],
                    "curve-2": scene.copies["alice"]}})
    assert r.status_code == 201, r.text
    assert r.json()["method"] == "merge" and r.json()["adjudicator"] == "lead"
    versions = client.get(f"/api/v1/projects/{pid}/tasks/{tid}/annotations").json()["items"]
    assert len(versions) == 3
    painted = np.full((64, 64), 255, np.uint8)
    painted[:, :32] = 0
    r = client.post(f"{url}/redraw", headers={"X-CSRF-Token": token}, data={"rationale": "painted"},
                    files={"mask": ("m.png", png_bytes(painted), "image/png")})
    assert r.status_code == 201, r.text
    detail = client.get(f"/api/v1/projects/{pid}/tasks/{tid}/agreement").json()
    assert [a["method"] for a in detail["adjudications"]] == ["merge", "redraw"]
    assert client.get(f"/api/v1/projects/{pid}/disagreements").json()["items"] == []
