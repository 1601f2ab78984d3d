"""The `pretrain` job: a project's trunk learned without labels from its pool (app.learning.pretrain), once
the pool reaches 20 images and again when it has grown by `pretrain_regrow` since the last representation,
or when a lead asks (a tracked job: progress and cancel in the Jobs panel). Then every image's pooled
embedding under it is cached, and new uploads get theirs (`embed_items`), so diversity and drift read them.

A pool under 20 images does not pretrain: the job ends saying "training end to end: pool too small to
pretrain (N < 20)", and model versions keep training end to end."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.config import get_settings
from app.db import lock_row, session_scope
from app.errors import Conflict
from app.items import service as item_service
from app.items.models import Item, Split
from app.jobs import BrokerUnavailable, enqueue, job, progress
from app.jobs.models import JobRun, JobStatus
from app.modeling import feature_cache, representations
from app.modeling.representation_models import Representation
from app.projects.models import Project

log = logging.getLogger(__name__)
JOB = "labelwise.pretrain"


def _release_stopped(session: Session, project_id: int) -> None:
    """A queued representation whose tracked job was cancelled (or died) before it started never runs: it
    must not block the next pretraining."""
    rep = representations.pending(session=session, project_id=project_id)
    if rep is None:
        return
    if progress.stopped_before_running(session=session, project_id=project_id, name=JOB, row_id=rep.id):
        representations.mark_failed(session=session, representation_id=rep.id, error="cancelled")


def maybe_pretrain(*, session: Session, project: Project) -> Representation | None:
    """Queue a representation when one is due (the pool reached 20 images, or grew by the regrow share since
    the newest ready one) and none is queued or training. The caller commits, then `enqueue_pretrain`."""
    lock_row(session, Project.name, project.id)
    _release_stopped(session, project.id)
    if representations.pending(session=session, project_id=project.id) is not None:
        return None
    pool = representations.pool_size(session=session, project_id=project.id)
    last = representations.current(session=session, project_id=project.id)
    reason = representations.due_reason(pool=pool, last_pool=last.pool_size if last else None,
                                        regrow=get_settings().pretrain_regrow)
    if reason is None:
        return None
    return representations.queue(session=session, project_id=project.id, reason=reason, pool=pool)


def enqueue_pretrain(rep_id: int, *, job_id: str | None = None) -> None:
    """After the commit that queued it. A job that cannot be sent leaves the representation failed (so a
    later one can be queued) and raises BrokerUnavailable."""
    try:
        enqueue(JOB, rep_id, job_id=job_id)
    except BrokerUnavailable as exc:
        with session_scope() as session:
            representations.mark_failed(session=session, representation_id=rep_id, error=str(exc))
            if job_id is not None:
                progress.settle(session=session, job_id=job_id, status=JobStatus.dead, message=str(exc))
        raise


def after_upload(*, project_id: int, item_ids: Sequence[int]) -> None:
    """After an upload committed: queue a pretraining if one is due, else cache the new images' embeddings
    under the current representation. The upload is kept whatever happens here (a broker outage is logged)."""
    with session_scope() as session:
        project = session.get(Project, project_id)
        if project is None:
            return
        rep = maybe_pretrain(session=session, project=project)
        rep_id = rep.id if rep is not None else None
        ready = representations.current(session=session, project_id=project_id)
        ready_id = ready.id if ready is not None else None
    try:
        if rep_id is not None:  # its run embeds every image, these included
            enqueue_pretrain(rep_id)
        elif ready_id is not None and item_ids:
            enqueue("labelwise.embed_items", ready_id, list(item_ids))
    except BrokerUnavailable:
        log.warning("project %s: pretraining or embedding not sent (broker down); the next upload retries",
                    project_id)


def start_pretrain_job(*, session: Session, project: Project, user: User) -> tuple[Representation, JobRun]:
    """A lead's pretraining, as a tracked job; audit-logged. Conflict (409) while one is queued or training.
    A pool under 20 images is accepted: the job then says it trains end to end. Commits, then sends it."""
    lock_row(session, Project.name, project.id)
    _release_stopped(session, project.id)
    if representations.pending(session=session, project_id=project.id) is not None:
        raise Conflict("a pretraining is already queued or running", code="pretrain_running")
    pool = representations.pool_size(session=session, project_id=project.id)
    rep = representations.queue(session=session, project_id=project.id, reason="requested", pool=pool,
                                user_id=user.id)
    run = progress.track(session=session, name=JOB, args=[rep.id], project_id=project.id, user_id=user.id,
                         message=f"pretraining representation r{rep.version} on {pool} images")
    session.commit()
    enqueue_pretrain(rep.id, job_id=run.job_id)
    return rep, run


def _say(message: str) -> None:
    """The tracked job's message, when this runs as one."""
    job_id = progress.current_job_id()
    if job_id is not None:
        with session_scope() as session:
            progress.settle(session=session, job_id=job_id, message=message)


@job(JOB, queue="training")
def run_pretrain(representation_id: int) -> dict:
    """Pretrain the queued representation on the project's pool, save its trunk, cache every image's
    embedding. Idempotent: a representation that is ready, failed or unknown is left alone."""
    from app.learning.pretrain import PretrainConfig, pretrain_trunk

    settings = get_settings()
    with session_scope() as session:
        rep = representations.begin(session=session, representation_id=representation_id)
        if rep is None:
            return {"representation_id": representation_id, "pretrained": False}
        project_id, version = rep.project_id, rep.version
        items = list(session.scalars(select(Item).where(Item.project_id == project_id).order_by(Item.id)))
        pool_items = [i for i in items if i.split == Split.pool]
        if len(pool_items) < representations.MIN_POOL:
            message = representations.too_small_message(len(pool_items))
            representations.mark_failed(session=session, representation_id=representation_id, error=message,
                                        pool=len(pool_items))
            session.commit()
            _say(message)
            return {"representation_id": representation_id, "pretrained": False, "reason": message}
        pixels = {i.id: item_service.load_pixels(i) for i in items}
    steps = settings.pretrain_steps
    config = PretrainConfig(steps=steps, batch_size=settings.pretrain_batch_size, crop_size=settings.pretrain_crop,
                            base_channels=settings.unet_base_channels, max_seconds=settings.pretrain_max_seconds,
                            log_every=max(1, steps // 5), seed=version)
    try:
        model, history = pretrain_trunk([pixels[i.id] for i in pool_items], config=config,
                                        progress=lambda done, total: progress.report(done, total, "pretraining"))
        weights = representations.save_trunk(model, project_id=project_id, version=version)
        if settings.train_mode == "head":  # its versions read every image's features: one trunk pass for both
            vectors = feature_cache.store_all(project_id=project_id, rep_version=version, trunk=model,
                                              items=[(i.id, pixels[i.id]) for i in items])
        else:
            vectors = representations.compute_embeddings(model, [pixels[i.id] for i in items])
    except progress.Cancelled:  # a lead stopped it: the representation ends failed, saying so
        with session_scope() as session:
            representations.mark_failed(session=session, representation_id=representation_id, error="cancelled")
        raise
    except Exception as exc:  # noqa: BLE001 - recorded on the representation, not lost
        log.exception("pretraining representation %s failed", representation_id)
        with session_scope() as session:
            representations.mark_failed(session=session, representation_id=representation_id, error=str(exc))
        return {"representation_id": representation_id, "pretrained": False, "error": str(exc)}
    with session_scope() as session:
        representations.store_embeddings(session=session, representation_id=representation_id,
                                         vectors={i.id: v for i, v in zip(items, vectors, strict=True)})
        representations.mark_ready(session=session, representation_id=representation_id, weights=weights,
                                   pool=len(pool_items), history=history)
        session.flush()  # the older representation's cached features go, unless the live version reads them
        feature_cache.sweep(session=session, project_ids=[project_id], grace_seconds=float("inf"))
    summary = (f"representation r{version}: pretext loss {history['first_loss']:.4f} -> {history['last_loss']:.4f} "
               f"on {len(pool_items)} images in {history['seconds']:.1f} s")
    _say(summary)
    return {"representation_id": representation_id, "pretrained": True, "version": version,
            "loss_before": history["first_loss"], "loss_after": history["last_loss"], "pool": len(pool_items)}


@job("labelwise.embed_items", queue="scoring")
def embed_items(representation_id: int, item_ids: list[int]) -> dict:
    """Cache new images' embeddings under the representation (idempotent: cached ones are skipped)."""
    with session_scope() as session:
        rep = session.get(Representation, representation_id)
        if rep is None or rep.weights_path is None:
            return {"embedded": 0}
        items = list(session.scalars(select(Item).where(Item.id.in_(item_ids), Item.project_id == rep.project_id)))
        before = len(representations.cached_embeddings(session=session, representation_id=rep.id,
                                                       item_ids=item_ids))
        done = representations.embeddings_for(session=session, rep=rep, items=items,
                                              load_pixels=item_service.load_pixels)
    return {"embedded": len(done) - before}
