"""What a submit must never do: lose strokes under a reused key, store a foreign model version, or
leave a file no row points at."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from tests.factories import chart_pngs, login, make_project, make_user, png_bytes


@pytest.fixture
def setup(client):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    other = make_project(name="other", owner="lead")
    token = login(client, "lead")
    for p in (pid, other):
        files = [("files", (f"c{i}.png", png, "image/png")) for i, (png, _) in enumerate(chart_pngs(2, seed=p))]
        r = client.post(f"/api/v1/projects/{p}/items", headers={"X-CSRF-Token": token}, files=files)
        assert r.status_code == 201, r.text
    return pid, other


def lease(client, pid, user="ann"):
    token = login(client, user)
    r = client.post(f"/api/v1/projects/{pid}/tasks/next", headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    return r.json(), token


def mask_png(task, value):
    mask = np.full((task["image"]["height"], task["image"]["width"]), 255, np.uint8)
    mask[:8, :8] = value
    return png_bytes(mask)


def submit(client, pid, tid, png, token, **data):
    return client.post(f"/api/v1/projects/{pid}/tasks/{tid}/annotations", headers={"X-CSRF-Token": token},
                       files={"mask": ("m.png", png, "image/png")}, data=data)


def versions(client, pid, tid):
    return client.get(f"/api/v1/projects/{pid}/tasks/{tid}/annotations").json()["items"]


def mask_files(env):
    return sorted(p.name for p in env.rglob("masks/*"))


def test_a_retry_is_idempotent_and_a_different_mask_under_the_same_key_is_refused(client, setup, env):
    pid, _ = setup
    task, token = lease(client, pid)
    first = submit(client, pid, task["id"], mask_png(task, 1), token, client_token="k1")
    assert first.status_code == 201, first.text
    retry = submit(client, pid, task["id"], mask_png(task, 1), token, client_token="k1")
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    other_tab = submit(client, pid, task["id"], mask_png(task, 2), token, client_token="k1")
    assert other_tab.status_code == 409, other_tab.text
    assert "different mask" in other_tab.json()["detail"] and "draft" in other_tab.json()["detail"]
    assert [v["version"] for v in versions(client, pid, task["id"])] == [1]
    assert len(mask_files(env)) == 1


@pytest.mark.parametrize("which", ["missing", "foreign"])
def test_a_model_version_of_another_project_or_none_is_refused(client, setup, env, which):
    from app.db import session_scope
    from app.modeling.models import ModelStatus, ModelVersion

    pid, other = setup
    with session_scope() as session:
        mv = ModelVersion(project_id=other, version=1, status=ModelStatus.ready)
        session.add(mv)
        session.flush()
        mv_id = mv.id if which == "foreign" else mv.id + 100
    task, token = lease(client, pid)
    r = submit(client, pid, task["id"], mask_png(task, 1), token, model_version_id=str(mv_id))
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == f"model_version_id {mv_id} is not a model version of this project"
    assert versions(client, pid, task["id"]) == [] and mask_files(env) == []


def test_a_submit_whose_transaction_fails_leaves_no_mask_file(client, setup, env, monkeypatch):
    from app.flows import training

    def broken(**_kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away after the mask was written")

    pid, _ = setup
    task, token = lease(client, pid)
    monkeypatch.setattr(training, "maybe_retrain", broken)
    with pytest.raises(RuntimeError):
        submit(client, pid, task["id"], mask_png(task, 1), token)
    assert versions(client, pid, task["id"]) == []
    assert mask_files(env) == [] and not list(env.rglob(".tmp-*"))


def test_the_sweep_on_start_removes_orphans_and_keeps_every_file_a_row_points_at(client, setup, env):
    from app.flows.housekeeping import sweep_orphan_files
    from app.main import create_app

    pid, _ = setup
    task, token = lease(client, pid)
    assert submit(client, pid, task["id"], mask_png(task, 1), token).status_code == 201
    kept = sorted(p for p in env.rglob("projects/*/*/*") if p.is_file())
    masks = env / "projects" / str(pid) / "masks"
    orphan, half_written, fresh = masks / "task9-v1-a99.png", masks / ".tmp-abc123", masks / "task9-v2-a100.png"
    for path in (orphan, half_written, fresh):
        path.write_bytes(b"left by a killed server")
    old = time.time() - 3600
    for path in [orphan, half_written, *kept]:
        os.utime(path, (old, old))

    from fastapi.testclient import TestClient

    with TestClient(create_app()):  # the sweep runs on start
        pass
    assert not orphan.exists() and not half_written.exists()
    assert fresh.exists(), "a file younger than the grace period may belong to a request still in flight"
    assert all(p.exists() for p in kept)
    assert sweep_orphan_files(grace_seconds=0) == [fresh.relative_to(env).as_posix()]
    assert all(p.exists() for p in kept)
