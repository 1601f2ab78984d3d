"""Drift: once enough new pool images arrived after the live model was trained, compare what the model
sees of them (embeddings, uncertainty) with the labeled images; a shift past the project's threshold
raises the overview's drift alert and, if the lead chose so, boosts the batch in the next ranking."""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import exists, select

from app.alerts import service as alert_service
from app.alerts.models import AlertSettings, DriftCheck
from app.config import get_settings
from app.db import session_scope
from app.items import service as item_service
from app.items.models import Item, Split
from app.modeling import representations
from app.modeling import service as model_service
from app.projects.models import Project
from app.queue.models import Task, TaskStatus

log = logging.getLogger(__name__)

BOOST = 2.0  # a boosted task ranks as if its position were halved


def check_all() -> int:
    """Check every project that has a ready model; returns how many checks raised an alert."""
    with session_scope() as session:
        project_ids = list(session.scalars(select(Project.id).order_by(Project.id)))
    alerts = 0
    for pid in project_ids:
        try:
            check = check_project(project_id=pid)
        except Exception:  # noqa: BLE001 - one project's missing weights must not stop the others' checks
            log.exception("the drift check of project %s failed", pid)
            continue
        alerts += bool(check is not None and check.alert)
    return alerts


def _new_batch(session, project_id: int, after_item_id: int, trained_at) -> list[Item]:  # type: ignore[no-untyped-def]
    return list(session.scalars(
        select(Item).where(Item.project_id == project_id, Item.split == Split.pool, Item.id > after_item_id,
                           Item.created_at > trained_at).order_by(Item.id.desc()).limit(200)))


def _labeled(session, project_id: int, limit: int) -> list[Item]:  # type: ignore[no-untyped-def]
    done = exists().where(Task.item_id == Item.id, Task.status == TaskStatus.done)
    ids = list(session.scalars(select(Item.id).where(Item.project_id == project_id, done).order_by(Item.id)))
    if len(ids) > limit:  # an even spread over the labeled set, the same on every check
        ids = [ids[int(i)] for i in np.linspace(0, len(ids) - 1, limit)]
    return list(session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id)))


def check_project(*, project_id: int) -> DriftCheck | None:
    """One check of the images that arrived since the last one, or None when there is nothing to check
    (no ready model, too few new images, fewer than two labeled images)."""
    from app.learning.drift import embedding_shift, ks_critical, ks_statistic
    from app.modeling import inference

    config = get_settings()
    with session_scope() as session:
        mv = model_service.latest_ready(session=session, project_id=project_id)
        if mv is None or mv.finished_at is None:
            return None
        last = alert_service.latest_drift(session=session, project_id=project_id)
        batch = _new_batch(session, project_id, last.newest_item_id if last else 0, mv.created_at)
        reference = _labeled(session, project_id, config.drift_reference_max)
        if len(batch) < config.drift_min_batch or len(reference) < 2:
            return None
        settings = alert_service.settings_or_default(session=session, project_id=project_id)
        maps = {item.id: inference.uncertainty_maps(mv, item_service.load_pixels(item)) for item in batch + reference}
        embedding = {i.id: maps[i.id].embedding for i in batch + reference}
        rep = representations.of_version(session=session, project_id=project_id, version=mv.representation_version)
        if rep is not None:  # the representation's cached embeddings, as diversity uses
            embedding = representations.embeddings_for(session=session, rep=rep, items=batch + reference,
                                                       load_pixels=item_service.load_pixels)
        emb_new = np.stack([embedding[i.id] for i in batch])
        emb_ref = np.stack([embedding[i.id] for i in reference])
        score_new = [float(maps[i.id].entropy.mean()) for i in batch]
        score_ref = [float(maps[i.id].entropy.mean()) for i in reference]
        shift = embedding_shift(emb_ref, emb_new)
        ks = ks_statistic(np.array(score_ref), np.array(score_new))
        alert = shift > settings.drift_threshold or ks > ks_critical(len(batch), len(reference))
        check = DriftCheck(project_id=project_id, model_version_id=mv.id, item_ids=sorted(i.id for i in batch),
                           reference_count=len(reference), embedding_shift=round(float(shift), 4),
                           score_shift=round(ks, 4), threshold=settings.drift_threshold, alert=bool(alert),
                           newest_item_id=max(i.id for i in batch))
        session.add(check)
        session.flush()
        return check


def ranking_boost(*, session, project_id: int) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """Item id -> boost for the next ranking: the latest drifted batch, when the lead asked for it."""
    settings = session.scalar(select(AlertSettings).where(AlertSettings.project_id == project_id))
    if settings is None or not settings.drift_boost:
        return {}
    check = alert_service.latest_drift(session=session, project_id=project_id)
    if check is None or not check.alert:
        return {}
    return {item_id: BOOST for item_id in check.item_ids}
