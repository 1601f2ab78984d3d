"""Head mode (LABELWISE_TRAIN_MODE=head): a model version is a light head on the project's frozen
representation trunk, trained on the labeled images' cached trunk features; scoring reads the cache (a head
pass, the trunk does not run), computing and storing features on a miss; the cache is swept with its items
and representations; without a representation it trains end to end and says so."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from app import storage
from app.db import session_scope
from app.flows import pretrain
from app.flows import training as training_flow
from app.items.models import Item
from app.modeling import feature_cache, representations
from app.modeling.models import ModelStatus, ModelVersion, Score
from app.projects.models import Project
from tests.factories import login
from tests.scenes import labeled_chart_project
from tests.torch_threads import one_torch_thread  # noqa: F401  (tiny convolutions: one thread is 10x faster here)


@pytest.fixture
def head_mode(monkeypatch):  # type: ignore[no-untyped-def]
    from app.config import get_settings

    monkeypatch.setenv("LABELWISE_TRAIN_MODE", "head")
    monkeypatch.setenv("LABELWISE_HEAD_STEPS", "6")
    get_settings.cache_clear()
    monkeypatch.setattr("app.flows.scoring.start_scoring", lambda _mv: (0, 0))  # scored by hand below


def _train(pid: int) -> int:
    with session_scope() as session:
        mv_id = training_flow.request_training(session=session, project=session.get(Project, pid), reason="t").id
    training_flow.run_training(mv_id)
    return mv_id


def _cached(pid: int, rep: int) -> set[int]:
    folder = storage.absolute(f"projects/{pid}/features/r{rep}")
    return {int(p.stem) for p in folder.glob("*.npy")} if folder.is_dir() else set()


def test_head_version_trains_on_cached_features_and_scores_from_them(client, head_mode, monkeypatch):
    from app.flows.scoring import score_chunk
    from app.learning.head import HeadedUNet
    from app.learning.mc_dropout import image_embeddings
    from app.modeling import inference, scoring
    from app.queue import service as queue_service
    from app.queue.models import Task

    pid = labeled_chart_project(n=20, labeled=3, size=32)
    with session_scope() as session:
        rep_id = pretrain.maybe_pretrain(session=session, project=session.get(Project, pid)).id
    pretrain.run_pretrain(rep_id)
    with session_scope() as session:
        item_ids = set(session.scalars(select(Item.id).where(Item.project_id == pid)))
        embeddings = representations.cached_embeddings(session=session, representation_id=rep_id,
                                                       item_ids=list(item_ids))
    # the pretraining's one trunk pass cached every image's features and gave the same embeddings
    assert _cached(pid, 1) == item_ids
    with session_scope() as session:
        trunk = representations.load_trunk(_rep(session, pid).weights_path)
    some = sorted(item_ids)[:3]
    np.testing.assert_allclose(np.stack([embeddings[i] for i in some]),
                               image_embeddings(trunk, [_pixels(i) for i in some]), atol=1e-4)  # one at a time
    computed: list[int] = []
    import app.learning.head as head

    real = head.cache_features
    monkeypatch.setattr(head, "cache_features", lambda model, images, **kw: computed.append(len(images))
                        or real(model, images, **kw))
    mv_id = _train(pid)
    assert computed == []  # training read the labeled images' features from the cache
    with session_scope() as session:
        mv = session.get(ModelVersion, mv_id)
        assert mv.status == ModelStatus.ready and mv.representation_version == "1"
        assert mv.train_mode == "head" and mv.metrics["train_steps"] == 6 and mv.metrics["train_images"] == 3
        assert isinstance(inference.load_model(mv.weights_path), HeadedUNet)
        task_ids = queue_service.open_pool_task_ids(session=session, project_id=pid)[:4]
        items = {t: session.get(Task, t).item_id for t in task_ids}
        run_id = scoring.start_run(session=session, model_version=mv, task_ids=task_ids)[0].id
        session.expunge(mv)
    # scoring: two items' features cached, the others' files gone (as for images uploaded after the
    # pretraining): those are misses, computed once and stored
    for item_id in list(items.values())[2:]:
        storage.absolute(feature_cache.relative_path(pid, 1, item_id)).unlink()
    full = {i: inference.uncertainty_maps(mv, _pixels(i)) for i in items.values()}  # the trunk pass, for reference
    score_chunk(run_id, task_ids)
    assert computed == [len(set(items.values())) - 2] and set(items.values()) <= _cached(pid, 1)
    with session_scope() as session:
        scores = session.scalars(select(Score).where(Score.model_version_id == mv_id)).all()
        assert len(scores) == 4
        for s in scores:  # the head pass on cached float16 features gives the full pass's score
            x, y, w, h = session.get(Task, s.task_id).region
            ent = full[items[s.task_id]].entropy[y:y + h, x:x + w]
            assert s.components["entropy"] == pytest.approx(float(ent.mean()), abs=2e-2), s.components
    # the trunk no longer runs at all once every item is cached
    monkeypatch.setattr(HeadedUNet, "trunk_features", lambda *_a: (_ for _ in ()).throw(AssertionError("trunk")))
    with session_scope() as session:
        mv = session.get(ModelVersion, mv_id)
        got = scoring._cached_features(session=session, mv=mv, rep=_rep(session, pid), item_ids=list(items.values()))
        assert set(got) == set(items.values()) and all(str(f.dtype) == "torch.float16" for f in got.values())
    login(client, "lead")
    page = client.get(f"/projects/{pid}/models").text
    assert "head on frozen trunk" in page
    assert "New model versions train a light head on the newest ready one" in page  # the card says how
    assert client.get(f"/api/v1/projects/{pid}/models").json()["items"][0]["train_mode"] == "head"


def test_the_sweep_removes_features_of_gone_items_and_replaced_representations(env):
    pid = labeled_chart_project(n=3, labeled=0, size=32)
    keep = storage.write_atomic(f"projects/{pid}/features/r1/1.npy", b"x")
    gone_item = storage.write_atomic(f"projects/{pid}/features/r1/99999.npy", b"x")
    old_rep = storage.write_atomic(f"projects/{pid}/features/r7/1.npy", b"x")
    with session_scope() as session:
        from app.modeling import representations
        from app.modeling.representation_models import RepresentationStatus

        rep = representations.queue(session=session, project_id=pid, reason="t", pool=3)
        rep.status = RepresentationStatus.ready  # r1 is the newest ready representation
        session.flush()
        deleted = feature_cache.sweep(session=session, grace_seconds=0)
    assert keep.exists() and not gone_item.exists() and not old_rep.parent.exists()
    assert sorted(deleted) == [f"projects/{pid}/features/r1/99999.npy", f"projects/{pid}/features/r7"]


def test_head_mode_without_a_representation_trains_end_to_end_and_says_so(env, head_mode):
    pid = labeled_chart_project(n=5, labeled=2, size=32)
    mv_id = _train(pid)
    with session_scope() as session:
        mv = session.get(ModelVersion, mv_id)
        assert mv.status == ModelStatus.ready and mv.representation_version is None
        assert mv.train_mode == "scratch"
        assert mv.metrics["train_mode_note"] == "head mode needs a representation: trained end to end"
    assert not storage.absolute(f"projects/{pid}/features").exists()


def _pixels(item_id: int) -> np.ndarray:
    from app.items import service as item_service
    from app.items.models import Item

    with session_scope() as session:
        return item_service.load_pixels(session.get(Item, item_id))


def _rep(session, pid):  # type: ignore[no-untyped-def]
    from app.modeling import representations

    return representations.current(session=session, project_id=pid)


@pytest.mark.parametrize("name,value", [("LABELWISE_TRAIN_MODE", "frozen"), ("LABELWISE_HEAD_STEPS", "0")])
def test_bad_settings_are_refused(monkeypatch, name, value):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from app.config import Settings

    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("LABELWISE_").lower()):
        Settings()
