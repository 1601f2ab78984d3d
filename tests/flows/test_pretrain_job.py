"""The `pretrain` job in the product: a representation learned from the pool (loss falls), when it is due
(20 images, then a regrow share), model versions built on it, the fallback under 20 images, the cached
embeddings that scoring and drift read, the manual start (API, page, audit) and bad settings."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from app.db import session_scope
from app.flows import pretrain
from app.learning.welllog import generate_dataset
from app.modeling import representations
from app.modeling.representation_models import ItemEmbedding, Representation, RepresentationStatus
from app.projects.models import Project
from tests.factories import login, make_project, make_user
from tests.torch_threads import one_torch_thread  # noqa: F401  (tiny convolutions: one thread is 10x faster here)


def _pool(pid: int, n: int, start: int = 0) -> None:
    """`n` well-log charts of 32 px in the pool (added without the upload trigger)."""
    from app.flows import uploads
    from app.items.models import Split

    with session_scope() as session:
        project = session.get(Project, pid)
        for i, (image, _mask) in enumerate(generate_dataset(n, seed=start + 1, size=32)):
            uploads.add_image(session=session, project=project, filename=f"c{start + i}.png", pixels=image,
                              split=Split.pool, user=None)


def _due(pid: int) -> int | None:
    with session_scope() as session:
        rep = pretrain.maybe_pretrain(session=session, project=session.get(Project, pid))
        return rep.id if rep is not None else None


def _rep(rep_id: int) -> Representation:
    with session_scope() as session:
        rep = session.get(Representation, rep_id)
        session.expunge(rep)
        return rep


def _idle() -> None:
    from app.jobs import current_in_process_worker

    worker = current_in_process_worker()
    assert worker is not None and worker.wait_idle(timeout=120)


@pytest.fixture
def project(env) -> int:  # type: ignore[no-untyped-def]
    make_user("lead", "lead")
    return make_project(owner="lead")


def test_pretrain_writes_a_representation_whose_loss_fell(project, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("LABELWISE_PRETRAIN_STEPS", "20")  # 5 logged windows of 4 steps
    get_settings.cache_clear()
    _pool(project, 20)
    rep_id = _due(project)
    assert rep_id is not None and _rep(rep_id).reason == "pool reached 20 images"
    out = pretrain.run_pretrain(rep_id)
    rep = _rep(rep_id)
    assert out["pretrained"] and rep.status == RepresentationStatus.ready and rep.pool_size == 20
    assert rep.loss_after < rep.loss_before, (rep.loss_before, rep.loss_after)
    assert rep.steps == 20 and rep.seconds > 0
    import torch

    payload = torch.load(_absolute(rep.weights_path), weights_only=True)  # a plain checkpoint: no pickled code
    assert "state_dict" in payload
    with session_scope() as session:  # every image's embedding cached
        assert len(session.scalars(select(ItemEmbedding).where(ItemEmbedding.representation_id == rep_id)).all()) == 20
    assert pretrain.run_pretrain(rep_id) == {"representation_id": rep_id, "pretrained": False}  # idempotent


def _absolute(relative: str | None):  # type: ignore[no-untyped-def]
    from app import storage

    assert relative
    return storage.absolute(relative)


def test_regrow_below_the_share_does_not_rerun_above_it_does(project):
    _pool(project, 19)
    assert _due(project) is None  # under 20: nothing due
    _pool(project, 1, start=19)
    first = _due(project)
    assert first is not None and _due(project) is None  # one queued: not a second
    pretrain.run_pretrain(first)
    _pool(project, 9, start=20)  # 29 < 20 * 1.5
    assert _due(project) is None
    from app.items.models import Item

    with session_scope() as session:
        new_ids = list(session.scalars(select(Item.id).where(Item.project_id == project).order_by(Item.id)))[20:]
    pretrain.after_upload(project_id=project, item_ids=new_ids)  # not due: the new images' embeddings are cached
    _idle()
    with session_scope() as session:
        cached = session.scalars(select(ItemEmbedding.item_id).where(ItemEmbedding.representation_id == first)).all()
        assert set(new_ids) <= set(cached) and len(cached) == 29
    # an upload that brings the pool to 30 >= 20 * 1.5 queues the next one, which the worker runs
    from app import imaging
    from app.flows import uploads
    from app.items.models import Split

    image = generate_dataset(1, seed=99, size=32)[0][0]
    with session_scope() as session:
        session.get(Project, project).validation_share = 0.0  # an upload would hold out its share: keep all in the pool
    with session_scope() as session:
        uploads.upload_items(session=session, project=session.get(Project, project),
                             uploads=[("new.png", imaging.encode_png(image))], split=Split.pool, user=None)
    _idle()
    with session_scope() as session:
        newest = representations.list_for(session=session, project_id=project)[0]
        assert (newest.version, newest.reason, newest.status) == (2, "pool grew from 20 to 30 images",
                                                                  RepresentationStatus.ready)


def test_due_reason_is_pure_and_bounded():
    assert representations.due_reason(pool=19, last_pool=None, regrow=0.5) is None
    assert representations.due_reason(pool=20, last_pool=None, regrow=0.5) == "pool reached 20 images"
    assert representations.due_reason(pool=39, last_pool=20, regrow=1.0) is None
    assert representations.due_reason(pool=40, last_pool=20, regrow=1.0) is not None


def test_a_model_version_trained_afterwards_records_the_representation(client):
    from app.flows import training as training_flow
    from app.modeling.models import ModelStatus, ModelVersion
    from tests.scenes import labeled_chart_project

    pid = labeled_chart_project(n=20, labeled=3, size=32)
    rep_id = _due(pid)
    assert rep_id is not None
    pretrain.run_pretrain(rep_id)
    with session_scope() as session:
        mv = training_flow.request_training(session=session, project=session.get(Project, pid), reason="test")
        mv_id = mv.id
    training_flow.run_training(mv_id)
    with session_scope() as session:
        mv = session.get(ModelVersion, mv_id)
        assert mv.status == ModelStatus.ready and mv.representation_version == "1"
        assert mv.metrics["initialised_from"] == "representation"
    login(client, "lead")
    page = client.get(f"/projects/{pid}/models").text  # the table's column and the section say r1
    assert "<td>r1</td>" in page and "New model versions start from <strong>r1</strong>" in page
    assert client.get(f"/api/v1/projects/{pid}/models").json()["items"][0]["representation_version"] == "1"


def test_under_20_images_it_falls_back_and_says_so(client):
    make_user("lead", "lead")
    pid = make_project(owner="lead")
    _pool(pid, 3)
    csrf = login(client, "lead")
    page = client.get(f"/projects/{pid}/models").text
    assert "Training end to end: pool too small to pretrain (3 &lt; 20)" in page
    r = client.post(f"/api/v1/projects/{pid}/representations/pretrain", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 202, r.text
    body = r.json()
    _idle()
    job = client.get(f"/api/v1/projects/{pid}/jobs").json()["items"][0]
    assert job["kind"] == "pretraining" and job["status"] == "done"
    assert job["message"] == "training end to end: pool too small to pretrain (3 < 20)", job
    listed = client.get(f"/api/v1/projects/{pid}/representations").json()
    assert listed["fallback"] == "training end to end: pool too small to pretrain (3 < 20)"
    assert listed["representations"][0]["status"] == "failed" and listed["current_version"] is None
    with session_scope() as session:
        from app.audit.models import AuditLog

        actions = session.scalars(select(AuditLog.action).where(AuditLog.project_id == pid)).all()
        assert "representation.start" in actions and body["representation"]["version"] == 1


def test_the_page_starts_it_and_a_second_start_is_refused(client):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    csrf = login(client, "lead")
    with session_scope() as session:  # one already queued
        representations.queue(session=session, project_id=pid, reason="test", pool=0)
    r = client.post(f"/projects/{pid}/representations/pretrain", data={"csrf_token": csrf},
                    headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 409 and "already queued or running" in r.text
    assert client.post(f"/projects/{pid}/representations/pretrain", follow_redirects=False).status_code == 403
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    csrf = login(client, "ann")
    r = client.post(f"/api/v1/projects/{pid}/representations/pretrain", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and client.get(f"/api/v1/projects/{pid}/representations").status_code == 200
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    make_user("outsider", "lead")
    csrf = login(client, "outsider")  # not a member: the project does not exist for them
    assert client.get(f"/api/v1/projects/{pid}/representations").status_code == 404
    r = client.post(f"/api/v1/projects/{pid}/representations/pretrain", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404


@pytest.mark.parametrize("name,value", [("LABELWISE_PRETRAIN_REGROW", "0"), ("LABELWISE_PRETRAIN_REGROW", "-1"),
                                        ("LABELWISE_PRETRAIN_STEPS", "0"), ("LABELWISE_PRETRAIN_CROP", "4")])
def test_bad_settings_are_refused(monkeypatch, name, value):
    from pydantic import ValidationError

    from app.config import Settings

    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("LABELWISE_").lower()):
        Settings()


def test_scoring_and_drift_read_the_cached_embeddings(env, monkeypatch):
    from app.flows import drift
    from app.flows import training as training_flow
    from app.flows.scoring import score_chunk
    from app.modeling import scoring
    from app.modeling.models import ModelVersion, Score
    from app.queue import service as queue_service
    from app.queue.models import Task
    from tests.scenes import labeled_chart_project

    pid = labeled_chart_project(n=20, labeled=3, size=32)
    rep_id = _due(pid)
    pretrain.run_pretrain(rep_id)
    with session_scope() as session:
        mv_id = training_flow.request_training(session=session, project=session.get(Project, pid), reason="t").id
    monkeypatch.setattr("app.flows.training.start_scoring", lambda _mv: (0, 0), raising=False)
    monkeypatch.setattr("app.flows.scoring.start_scoring", lambda _mv: (0, 0))
    training_flow.run_training(mv_id)
    computed: list[int] = []  # the spy: embeddings the trunk had to compute instead of reading them
    real = representations.compute_embeddings
    monkeypatch.setattr(representations, "compute_embeddings",
                        lambda trunk, images: computed.append(len(images)) or real(trunk, images))
    with session_scope() as session:
        mv = session.get(ModelVersion, mv_id)
        task_ids = queue_service.open_pool_task_ids(session=session, project_id=pid)[:4]
        run, _chunks = scoring.start_run(session=session, model_version=mv, task_ids=task_ids)
        run_id = run.id
        cached = representations.cached_embeddings(session=session, representation_id=rep_id,
                                                   item_ids=list(range(1, 21)))
    score_chunk(run_id, task_ids)
    with session_scope() as session:
        scores = session.scalars(select(Score).where(Score.model_version_id == mv_id)).all()
        items = {t: session.get(Task, t).item_id for t in task_ids}
        assert len(scores) == 4
        for s in scores:
            assert np.allclose(s.embedding, cached[items[s.task_id]], atol=1e-4)
    assert computed == []
    # drift: its embeddings come from the same cache (new items arriving after the model, none computed)
    monkeypatch.setenv("LABELWISE_DRIFT_MIN_BATCH", "1")
    from app.config import get_settings

    get_settings.cache_clear()
    read: list[int] = []
    real_read = representations.cached_embeddings
    monkeypatch.setattr(representations, "cached_embeddings",
                        lambda **kw: read.append(len(kw["item_ids"])) or real_read(**kw))
    with session_scope() as session:  # a new pool image, after the model version
        mv = session.get(ModelVersion, mv_id)
        mv.created_at = mv.created_at.replace(year=2000)
    check = drift.check_project(project_id=pid)
    assert check is not None and read and computed == []


def test_cancel_stops_it_and_does_not_block_the_next(project):
    from app import jobs
    from app.jobs import progress
    from app.jobs.models import JobStatus

    _pool(project, 20)
    with session_scope() as session:  # cancelled while running: stops at its next progress report
        rep_id = pretrain.maybe_pretrain(session=session, project=session.get(Project, project)).id
        run = progress.track(session=session, name=pretrain.JOB, args=[rep_id], project_id=project, user_id=None)
        job_id = run.job_id
    with session_scope() as session:
        progress.request_cancel(run=session.get(type(run), run.id), user_id=None)
    assert jobs.execute(pretrain.JOB, (rep_id,), job_id=job_id) is None  # cancelled before it started
    with session_scope() as session:
        assert session.get(type(run), run.id).status == JobStatus.cancelled
    again = _due(project)  # the stopped one does not block the next
    assert again is not None and _rep(rep_id).error == "cancelled"
    with session_scope() as session:
        run = progress.track(session=session, name=pretrain.JOB, args=[again], project_id=project, user_id=None)
        job_id = run.job_id
    from app import storage

    storage.write_atomic(f"jobs/{job_id}.cancel", b'{"user_id": null, "at": "2026-12-03T10:00:00+00:00"}')
    with progress.running_as(job_id), pytest.raises(progress.Cancelled):
        pretrain.run_pretrain(again)
    assert _rep(again).status == RepresentationStatus.failed and _rep(again).error == "cancelled"


def test_the_workers_run_the_pretrain_and_embed_jobs_on_their_queues():
    from app import jobs
    from workers.celery_app import celery_app

    assert {"labelwise.pretrain", "labelwise.embed_items"} <= set(celery_app.tasks)
    assert jobs.registry()["labelwise.pretrain"].queue == "training"
    assert celery_app.conf.task_routes["labelwise.pretrain"] == {"queue": "training"}
