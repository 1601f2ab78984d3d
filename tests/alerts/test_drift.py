"""Drift: a batch of new images unlike the labeled set raises the alert; one like it does not; the
lead's boost moves a drifted batch up the next ranking."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import update

from app.db import session_scope, utcnow
from app.items.models import Item, Split
from app.projects.models import Project
from app.queue.models import Task, TaskStatus
from tests.factories import make_project, make_user


def _add(pid: int, images: list[np.ndarray], *, labeled: bool, prefix: str) -> list[int]:
    from app.flows import uploads

    with session_scope() as session:
        project = session.get(Project, pid)
        items = [uploads.add_image(session=session, project=project, filename=f"{prefix}{i}.png", pixels=img,
                                   split=Split.pool, user=None) for i, img in enumerate(images)]
        session.flush()
        ids = [i.id for i in items]
        if labeled:
            session.execute(update(Task).where(Task.item_id.in_(ids)).values(status=TaskStatus.done))
            session.execute(update(Item).where(Item.id.in_(ids)).values(created_at=utcnow() - timedelta(days=1)))
        return ids


def _ready_model(pid: int) -> None:
    """An untrained, seeded network stands in for a trained one: what it sees of an image still
    separates chart images from unlike ones."""
    import torch

    from app import storage
    from app.learning.model import UNet, save_checkpoint
    from app.modeling.models import ModelStatus, ModelVersion

    torch.manual_seed(0)
    model = UNet(num_classes=3, base_channels=8)
    relative = f"projects/{pid}/models/v1.pt"
    save_checkpoint(storage.absolute(relative), model, model.config, {"project_id": pid, "version": 1})
    with session_scope() as session:
        session.add(ModelVersion(project_id=pid, version=1, status=ModelStatus.ready, weights_path=relative,
                                 created_at=utcnow() - timedelta(hours=1), finished_at=utcnow() - timedelta(hours=1)))


def _charts(n: int, seed: int) -> list[np.ndarray]:
    from app.learning.welllog import generate_dataset

    return [img for img, _ in generate_dataset(n, seed=seed, size=64)]


def test_a_shifted_batch_raises_the_drift_alert_and_a_like_batch_does_not(env, monkeypatch):
    monkeypatch.setenv("LABELWISE_MC_SAMPLES", "2")  # the maps are only read for embeddings and mean doubt
    from app.config import get_settings

    get_settings.cache_clear()
    from app.alerts import service
    from app.flows import drift

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    _add(pid, _charts(10, seed=1), labeled=True, prefix="old")
    _ready_model(pid)
    assert drift.check_project(project_id=pid) is None  # nothing new yet

    _add(pid, _charts(6, seed=2), labeled=False, prefix="like")
    same = drift.check_project(project_id=pid)
    assert same is not None and same.alert is False, (same.embedding_shift, same.score_shift)
    assert same.reference_count == 10 and len(same.item_ids) == 6
    assert drift.check_project(project_id=pid) is None  # that batch is checked; nothing new since

    # New images from elsewhere: photographs-like noise with a colour cast, not charts.
    rng = np.random.default_rng(5)
    shifted = [np.clip(rng.normal(60, 40, (64, 64, 3)) + [90, 0, 40], 0, 255).astype(np.uint8) for _ in range(6)]
    batch = _add(pid, shifted, labeled=False, prefix="new")
    alert = drift.check_project(project_id=pid)
    assert alert is not None and alert.alert is True and alert.item_ids == sorted(batch)
    assert alert.embedding_shift > alert.threshold > same.embedding_shift

    with session_scope() as session:
        assert service.latest_drift(session=session, project_id=pid).id == alert.id  # type: ignore[union-attr]
        # The boost applies only once the lead asks for it.
        assert drift.ranking_boost(session=session, project_id=pid) == {}
        service.update_settings(session=session, project_id=pid, user_id=1, drift_boost=True)
    with session_scope() as session:
        assert drift.ranking_boost(session=session, project_id=pid) == {i: drift.BOOST for i in batch}


def test_the_overview_shows_the_drift_alert(client):
    from app.alerts.models import DriftCheck
    from tests.factories import login

    make_user("lead", "lead")
    pid = make_project(owner="lead")
    login(client, "lead")
    assert 'data-testid="drift-alert"' not in client.get(f"/projects/{pid}").text
    with session_scope() as session:
        session.add(DriftCheck(project_id=pid, item_ids=[1, 2, 3], reference_count=10, embedding_shift=1.7,
                               score_shift=0.2, threshold=0.5, alert=True, newest_item_id=3))
    page = " ".join(client.get(f"/projects/{pid}").text.split())
    assert 'data-testid="drift-alert"' in page and "3 new images" in page and "1.70" in page


def test_boosted_items_move_up_the_ranking():
    from app.modeling.ranking import _boosted

    picks = [(i, 1.0 - i / 10, {"entropy": 1.0}) for i in range(6)]  # candidate i at position i + 1
    items = [10, 11, 12, 13, 14, 15]
    order = _boosted(picks, items, {15: 2.0, 13: 2.0})
    # positions / factor: 1, 2, 3, 4/2=2, 5, 6/2=3 -> ties keep the original order
    assert [i for i, _, _ in order] == [0, 1, 3, 2, 5, 4]
    assert order[2][2]["drift_boost"] == 2.0 and "drift_boost" not in order[0][2]
