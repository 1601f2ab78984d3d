"""Representations: a project's self-supervised trunk versions (when one is due, its life cycle, its weights
file) and the cached per-image embeddings under it. Services only: the flow (app/flows/pretrain.py) commits."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import storage
from app.audit import service as audit
from app.db import utcnow
from app.items.models import Item, Split
from app.modeling.representation_models import ItemEmbedding, Representation, RepresentationStatus
from app.modeling.representation_schemas import RepresentationRead, RepresentationsRead

MIN_POOL = 20  # app.learning.pretrain.MIN_POOL (kept here so the web process need not import torch)
PENDING = (RepresentationStatus.queued, RepresentationStatus.training)
_trunks: OrderedDict[str, Any] = OrderedDict()
_trunks_lock = threading.Lock()


def too_small_message(pool: int) -> str:
    return f"training end to end: pool too small to pretrain ({pool} < {MIN_POOL})"


def pool_size(*, session: Session, project_id: int) -> int:
    return int(session.scalar(select(func.count(Item.id)).where(Item.project_id == project_id,
                                                                Item.split == Split.pool)) or 0)


def list_for(*, session: Session, project_id: int, limit: int = 20) -> list[Representation]:
    return list(session.scalars(select(Representation).where(Representation.project_id == project_id)
                                .order_by(Representation.version.desc()).limit(limit)))


def current(*, session: Session, project_id: int) -> Representation | None:
    """The newest ready representation: what new model versions start from."""
    return session.scalar(select(Representation).where(Representation.project_id == project_id,
                                                       Representation.status == RepresentationStatus.ready)
                          .order_by(Representation.version.desc()).limit(1))


def pending(*, session: Session, project_id: int) -> Representation | None:
    return session.scalar(select(Representation).where(Representation.project_id == project_id,
                                                       Representation.status.in_(PENDING)).limit(1))


def by_version(*, session: Session, project_id: int, version: int) -> Representation | None:
    return session.scalar(select(Representation).where(Representation.project_id == project_id,
                                                       Representation.version == version))


def due_reason(*, pool: int, last_pool: int | None, regrow: float) -> str | None:
    """Why a pretraining is due for a pool of `pool` images (None: not due). `last_pool`: the pool size the
    newest ready representation learned from (None: there is none). `regrow`: the share the pool must have
    grown by since then."""
    if pool < MIN_POOL:
        return None
    if last_pool is None:
        return f"pool reached {pool} images"
    if pool >= last_pool * (1.0 + regrow):
        return f"pool grew from {last_pool} to {pool} images"
    return None


def queue(*, session: Session, project_id: int, reason: str, pool: int, user_id: int | None = None) -> Representation:
    newest = session.scalar(select(func.max(Representation.version)).where(Representation.project_id == project_id))
    rep = Representation(project_id=project_id, version=(newest or 0) + 1, status=RepresentationStatus.queued,
                         reason=reason[:200], pool_size=pool, started_by_id=user_id)
    session.add(rep)
    session.flush()
    if user_id is not None:
        audit.record(session=session, action="representation.start", entity="representation", entity_id=rep.id,
                     user_id=user_id, project_id=project_id, detail={"version": rep.version, "pool": pool})
    return rep


def begin(*, session: Session, representation_id: int) -> Representation | None:
    """Mark it training; None when there is nothing to do (ready, failed, unknown)."""
    rep = session.get(Representation, representation_id)
    if rep is None or rep.status not in PENDING:
        return None
    rep.status = RepresentationStatus.training
    return rep


def mark_ready(*, session: Session, representation_id: int, weights: str, pool: int, history: dict[str, Any]) -> None:
    rep = session.get(Representation, representation_id)
    assert rep is not None
    rep.status, rep.weights_path, rep.pool_size = RepresentationStatus.ready, weights, pool
    rep.loss_before, rep.loss_after = history.get("first_loss"), history.get("last_loss")
    rep.steps, rep.seconds, rep.finished_at = int(history.get("steps", 0)), history.get("seconds"), utcnow()
    audit.record(session=session, action="representation.ready", entity="representation", entity_id=rep.id,
                 project_id=rep.project_id, detail={"version": rep.version, "pool": pool,
                                                    "loss_before": rep.loss_before, "loss_after": rep.loss_after})


def mark_failed(*, session: Session, representation_id: int, error: str, pool: int | None = None) -> None:
    rep = session.get(Representation, representation_id)
    assert rep is not None
    rep.status, rep.error, rep.finished_at = RepresentationStatus.failed, error[:2000], utcnow()
    if pool is not None:
        rep.pool_size = pool


def weights_path(project_id: int, version: int) -> str:
    return f"projects/{project_id}/representations/r{version}.pt"


def save_trunk(model: Any, *, project_id: int, version: int) -> str:
    """The pretrained U-Net (trunk + an untrained classifier) as a checkpoint: torch.save, read back with
    torch.load(weights_only=True) (app.learning.model.save_checkpoint / load_checkpoint)."""
    from app.learning.model import save_checkpoint

    relative = weights_path(project_id, version)
    save_checkpoint(storage.absolute(relative), model, model.config, {"project_id": project_id,
                                                                      "representation": version})
    return relative


def load_trunk(relative: str) -> Any:
    """The representation's U-Net in eval mode (a small per-process cache: scoring and drift reuse it)."""
    from app.learning.model import load_checkpoint

    key = str(storage.absolute(relative))
    with _trunks_lock:
        if key not in _trunks:
            _trunks[key] = load_checkpoint(key)[0]
            while len(_trunks) > 2:
                _trunks.popitem(last=False)
        _trunks.move_to_end(key)
        return _trunks[key]


def initial_model(weights: str | None, *, num_classes: int, base_channels: int) -> Any | None:
    """A U-Net for `num_classes` whose trunk is the representation's (its weights file), for a model version
    to fine-tune; None without one, when its file is gone or its shape no longer matches the settings
    (train end to end then)."""
    from app.learning.model import ModelConfig, UNet

    if not weights or not storage.absolute(weights).exists():
        return None
    trunk = load_trunk(weights)
    if trunk.config.base_channels != base_channels:
        return None
    model = UNet.from_config(ModelConfig(num_classes=num_classes, base_channels=base_channels,
                                         depth=trunk.config.depth))
    state = {k: v for k, v in trunk.state_dict().items() if not k.startswith("classifier.")}
    model.load_state_dict(state, strict=False)
    return model


def compute_embeddings(trunk: Any, images: Sequence[np.ndarray]) -> np.ndarray:
    """[N, F] pooled trunk features: the one place embeddings are computed rather than read from the cache."""
    from app.learning.head import pooled_features

    return pooled_features(trunk, images)


def store_embeddings(*, session: Session, representation_id: int, vectors: dict[int, np.ndarray]) -> None:
    have = set(session.scalars(select(ItemEmbedding.item_id).where(
        ItemEmbedding.representation_id == representation_id, ItemEmbedding.item_id.in_(list(vectors)))))
    session.add_all(ItemEmbedding(item_id=item_id, representation_id=representation_id,
                                  vector=[round(float(v), 5) for v in vec])
                    for item_id, vec in vectors.items() if item_id not in have)
    session.flush()


def cached_embeddings(*, session: Session, representation_id: int, item_ids: Sequence[int]) -> dict[int, np.ndarray]:
    rows = session.execute(select(ItemEmbedding.item_id, ItemEmbedding.vector).where(
        ItemEmbedding.representation_id == representation_id, ItemEmbedding.item_id.in_(list(item_ids))))
    return {item_id: np.asarray(vector, np.float32) for item_id, vector in rows}


def embeddings_for(*, session: Session, rep: Representation, items: Sequence[Item],
                   load_pixels: Callable[[Item], np.ndarray]) -> dict[int, np.ndarray]:
    """Item id -> its embedding under `rep`: read from the cache; the few missing (an upload whose embedding
    job has not run yet) computed with the representation's trunk and cached."""
    out = cached_embeddings(session=session, representation_id=rep.id, item_ids=[i.id for i in items])
    missing = [i for i in items if i.id not in out]
    if missing and rep.weights_path:
        vectors = compute_embeddings(load_trunk(rep.weights_path), [load_pixels(i) for i in missing])
        fresh = {i.id: v for i, v in zip(missing, vectors, strict=True)}
        store_embeddings(session=session, representation_id=rep.id, vectors=fresh)
        out.update(fresh)
    return out


def of_version(*, session: Session, project_id: int, version: str | None) -> Representation | None:
    """The ready representation a model version records (ModelVersion.representation_version), if any."""
    if not version or not version.isdigit():
        return None
    rep = by_version(session=session, project_id=project_id, version=int(version))
    return rep if rep is not None and rep.status == RepresentationStatus.ready else None


def overview(*, session: Session, project_id: int) -> RepresentationsRead:
    """What the model versions page and the API show: the pool, the representations, the fallback note."""
    pool = pool_size(session=session, project_id=project_id)
    ready = current(session=session, project_id=project_id)
    return RepresentationsRead(
        pool=pool, min_pool=MIN_POOL, current_version=ready.version if ready else None,
        fallback=too_small_message(pool) if pool < MIN_POOL and ready is None else None,
        representations=[RepresentationRead.model_validate(r)
                         for r in list_for(session=session, project_id=project_id)])
