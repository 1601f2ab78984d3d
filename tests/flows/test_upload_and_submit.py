from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from tests.factories import chart_pngs, login, make_project, make_user, png_bytes


@pytest.fixture
def project(client):
    make_user("lead", "lead")
    make_user("ann")
    make_user("ann2")
    pid = make_project(owner="lead", members=("ann", "ann2"))
    return pid


def upload(client, pid, files, token, split="pool"):
    return client.post(f"/api/v1/projects/{pid}/items", headers={"X-CSRF-Token": token},
                       files=[("files", (name, data, "application/octet-stream")) for name, data in files],
                       data={"split": split})


def count_items(client, pid):
    return len(client.get(f"/api/v1/projects/{pid}/items").json()["items"])


def stored_files(env_dir):
    return sorted(p.name for p in env_dir.rglob("*.png"))


def test_upload_reencodes_and_creates_tasks(client, project, env):
    token = login(client, "lead")
    (png, _), = chart_pngs(1)
    r = upload(client, project, [("../../evil name.png", png)], token)
    assert r.status_code == 201, r.text
    item = r.json()["items"][0]
    assert item["width"] == 64 and item["split"] == "pool"
    img = client.get(f"/api/v1/projects/{project}/items/{item['id']}/image")
    assert img.headers["content-type"] == "image/png" and img.content.startswith(b"\x89PNG")
    # stored under a checksum name, never under the uploaded name
    assert all("evil" not in name for name in stored_files(env))
    q = client.get(f"/api/v1/projects/{project}/queue").json()
    assert [t["item_id"] for t in q["items"]] == [item["id"]]


@pytest.mark.parametrize("name,data,message", [
    ("notes.txt", b"hello, I am not an image", "not an image"),
    ("broken.png", None, "corrupt"),
    ("empty.png", b"", "empty"),
])
def test_bad_uploads_are_refused_and_store_nothing(client, project, env, name, data, message):
    token = login(client, "lead")
    (good, _), = chart_pngs(1)
    if data is None:
        data = good[: len(good) // 2]  # truncated PNG
    r = upload(client, project, [("good.png", good), (name, data)], token)
    assert r.status_code == 422, r.text
    assert message in r.json()["detail"] and name in r.json()["detail"]
    assert count_items(client, project) == 0
    assert stored_files(env) == []  # the good file of the same request was not kept either


def test_duplicate_upload_is_409(client, project):
    token = login(client, "lead")
    (png, _), = chart_pngs(1)
    assert upload(client, project, [("a.png", png)], token).status_code == 201
    r = upload(client, project, [("b.png", png)], token)
    assert r.status_code == 409 and "same image" in r.json()["detail"]


def test_annotator_cannot_upload(client, project):
    token = login(client, "ann")
    (png, _), = chart_pngs(1)
    assert upload(client, project, [("a.png", png)], token).status_code == 403


def submit(client, pid, task_id, mask_png, token, **form):
    return client.post(f"/api/v1/projects/{pid}/tasks/{task_id}/annotations", headers={"X-CSRF-Token": token},
                       files={"mask": ("mask.png", mask_png, "image/png")}, data=form)


def leased_task(client, pid, user):
    token = login(client, user)
    r = client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    return r.json(), token


def test_mask_validation_and_versions(client, project, env):
    token = login(client, "lead")
    charts = chart_pngs(2)
    upload(client, project, [(f"c{i}.png", png) for i, (png, _) in enumerate(charts)], token)
    task, token = leased_task(client, project, "ann")
    tid = task["id"]
    gt = charts[0][1] if task["item_id"] == 1 else charts[1][1]
    files_before = stored_files(env)

    wrong_size = submit(client, project, tid, png_bytes(np.zeros((32, 64), np.uint8)), token)
    assert wrong_size.status_code == 422 and "32" in wrong_size.json()["detail"]
    bad_class = gt.copy()
    bad_class[0, 0] = 7
    r = submit(client, project, tid, png_bytes(bad_class), token)
    assert r.status_code == 422 and "[7]" in r.json()["detail"]
    r = submit(client, project, tid, png_bytes(np.full((64, 64, 3), (255, 0, 0), np.uint8)), token)
    assert r.status_code == 422 and "class indices" in r.json()["detail"]
    r = submit(client, project, tid, b"not a png", token)
    assert r.status_code == 422
    r = submit(client, project, tid, png_bytes(np.full((64, 64), 255, np.uint8)), token)
    assert r.status_code == 422 and "no pixel" in r.json()["detail"]
    assert stored_files(env) == files_before
    assert client.get(f"/api/v1/projects/{project}/tasks/{tid}/annotations").json()["items"] == []

    # another annotator cannot submit for a task leased to someone else
    _, token2 = leased_task(client, project, "ann2")
    token = login(client, "ann2")
    r = submit(client, project, tid, png_bytes(gt), token)
    assert r.status_code == 409 and "leased to another" in r.json()["detail"]

    token = login(client, "ann")
    # RGBA grey levels (what a browser canvas produces) are accepted
    rgba = np.stack([gt, gt, gt, np.full_like(gt, 255)], axis=-1)
    r = submit(client, project, tid, png_bytes(rgba), token, client_token="tok-1", seconds_spent="12.5")
    assert r.status_code == 201, r.text
    first = r.json()
    again = submit(client, project, tid, png_bytes(rgba), token, client_token="tok-1")
    assert again.status_code == 200 and again.json()["id"] == first["id"]  # idempotent retry

    # a lead relabels: a second version, the first is kept as superseded
    lead_token = login(client, "lead")
    relabel = gt.copy()
    relabel[:, :10] = 0
    r = submit(client, project, tid, png_bytes(relabel), lead_token)
    assert r.status_code == 201 and r.json()["version"] == 2
    versions = client.get(f"/api/v1/projects/{project}/tasks/{tid}/annotations").json()["items"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "submitted")]
    stored = client.get(f"/api/v1/projects/{project}/tasks/{tid}/annotations/{first['id']}/mask")
    from app.imaging import decode_png_array

    assert np.array_equal(decode_png_array(stored.content), gt)


def test_tiled_project_makes_region_tasks_and_labels_stay_inside_them(client, env):
    make_user("lead", "lead")
    token = login(client, "lead")
    body = {"name": "tiles", "task_tile": 32, "strategy": "entropy",
            "classes": [{"name": "bg", "color": "#000000"}, {"name": "a", "color": "#ff0000"}]}
    r = client.post("/api/v1/projects", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201 and r.json()["task_tile"] == 32
    pid = r.json()["id"]
    (png, _), = chart_pngs(1, size=80)
    assert upload(client, pid, [("c.png", png)], token).status_code == 201
    tasks = [client.get(f"/api/v1/projects/{pid}/tasks/{t['task_id']}").json()
             for t in client.get(f"/api/v1/projects/{pid}/queue").json()["items"]]
    regions = sorted((t["region"]["x"], t["region"]["y"], t["region"]["width"], t["region"]["height"]) for t in tasks)
    assert len(regions) == 9 and (64, 64, 16, 16) in regions  # 3x3 tiles, edges cut to 80 px
    task = next(t for t in tasks if t["region"]["x"] == 32 and t["region"]["y"] == 0)
    r = submit(client, pid, task["id"], png_bytes(np.ones((80, 80), np.uint8)), token)
    assert r.status_code == 201 and r.json()["labeled_pixels"] == 32 * 32  # clipped to the tile


@pytest.mark.parametrize("change,message", [({"strategy": "magic"}, "unknown strategy"),
                                            ({"steered_share": 2}, "steered_share"),
                                            ({"task_tile": 3}, "task_tile"), ({"strategy": None}, "null")])
def test_bad_policy_is_refused(client, project, change, message):
    token = login(client, "lead")
    r = client.patch(f"/api/v1/projects/{project}", json=change, headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and message in r.json()["detail"]



def test_a_constraint_hit_by_a_concurrent_request_is_409_and_stores_nothing(client, project, env, monkeypatch):
    """The duplicate check passed, then another request committed the same image first: the commit fails."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    token = login(client, "lead")
    real_commit = Session.commit
    collided = []

    def commit_once_colliding(self):
        if not collided and self.new:  # the upload's commit, with its new item rows
            collided.append(True)
            raise IntegrityError("INSERT INTO item ...", {}, Exception("duplicate key (project_id, checksum)"))
        return real_commit(self)

    monkeypatch.setattr(Session, "commit", commit_once_colliding)
    (a, _), (b, _) = chart_pngs(2)
    r = upload(client, project, [("a.png", a), ("b.png", b)], token)
    assert collided and r.status_code == 409 and "another request" in r.json()["detail"], r.text
    assert count_items(client, project) == 0 and stored_files(env) == []


def test_rolled_back_upload_keeps_a_file_a_stored_item_uses(client, project, env):
    from app import storage
    from app.db import session_scope
    from app.items import service
    from app.items.models import Item

    token = login(client, "lead")
    (png, _), = chart_pngs(1)
    assert upload(client, project, [("a.png", png)], token).status_code == 201
    with session_scope() as session:
        kept = session.scalars(select(Item.storage_path)).one()
        stray = f"projects/{project}/items/{'0' * 64}.png"
        storage.write_atomic(stray, b"not referenced by any row")
        service.discard_unstored_files(session=session, paths=[kept, stray])
    assert storage.absolute(kept).exists() and not storage.absolute(stray).exists()


@pytest.mark.parametrize("cause,message", [("deadlock detected", "busy with another request"),
                                           ("database is locked", "busy with another request"),
                                           ("connection refused", "cannot be reached")])
def test_a_database_that_is_busy_or_gone_is_503_with_a_message(client, project, env, monkeypatch, cause, message):
    from sqlalchemy.exc import OperationalError

    from app.flows import uploads

    def fail(**_kw):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT INTO item ...", {}, Exception(cause))

    token = login(client, "lead")
    monkeypatch.setattr(uploads, "upload_items", fail)
    (a, _), = chart_pngs(1)
    r = upload(client, project, [("a.png", a)], token)
    assert r.status_code == 503 and message in r.json()["detail"] and r.headers["Retry-After"] == "1", r.text
    assert count_items(client, project) == 0
