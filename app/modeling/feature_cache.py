"""Trunk features cached per (item, representation version), for head-mode model versions.

A head-mode version (settings.train_mode = "head") is a light head on the representation's frozen trunk,
so an image's trunk features [F,H,W] hold for every version built on that representation: computed once
(by the pretraining for every image then in the pool, in the same pass as the embeddings; on a miss, for an
image uploaded later, by training or scoring), stored float16 at full resolution as a .npy file
(app.learning.cached_head: 512 KiB for a 128 px chart with 16 channels), written atomically. Files live at
projects/<project>/features/r<version>/<item>.npy; `sweep` removes those of items that are gone and of
representations nothing uses any more (neither the newest ready one nor the live version's).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import storage
from app.items.models import Item
from app.modeling import promotion, representations

log = logging.getLogger(__name__)
FOLDER = "features"


def relative_path(project_id: int, rep_version: int, item_id: int) -> str:
    return f"projects/{project_id}/{FOLDER}/r{rep_version}/{item_id}.npy"


def features_for(*, project_id: int, rep_version: int, model: Any, item_ids: Sequence[int],
                 pixels: Callable[[int], np.ndarray]) -> list[Any]:
    """Float16 trunk features [F,H,W] per item, in order: read from the cache; the missing ones computed
    with `model`'s trunk (a representation trunk or a HeadedUNet on it) in one batch and stored.
    `pixels(item_id)` is only called for a miss."""
    from app.learning.cached_head import features_from_bytes, features_to_bytes
    from app.learning.head import cache_features

    out: dict[int, Any] = {}
    missing: list[int] = []
    for item_id in dict.fromkeys(item_ids):
        path = storage.absolute(relative_path(project_id, rep_version, item_id))
        try:
            out[item_id] = features_from_bytes(path.read_bytes())
        except FileNotFoundError:
            missing.append(item_id)
        except ValueError:  # a damaged file: computed again below
            log.warning("cached features %s unreadable; computing them again", path)
            missing.append(item_id)
    if missing:
        for item_id, f in zip(missing, cache_features(model, [pixels(i) for i in missing]), strict=True):
            storage.write_atomic(relative_path(project_id, rep_version, item_id), features_to_bytes(f))
            out[item_id] = f
    return [out[i] for i in item_ids]


def store_all(*, project_id: int, rep_version: int, trunk: Any, items: Sequence[tuple[int, np.ndarray]],
              chunk: int = 32) -> np.ndarray:
    """Head mode's pretraining: every image's trunk features from one pass, stored (float16) for the head
    versions to train and score on, and returned pooled as the images' embeddings [N, F] (what
    representations.compute_embeddings gives: the same features, averaged in float32). In chunks: a pool of
    5,000 charts of 128 px with 16 channels is 5 GiB of float32 features at once."""
    from app.learning.cached_head import features_to_bytes
    from app.learning.head import pooled_features

    def store(i: int, f: Any) -> None:
        storage.write_atomic(relative_path(project_id, rep_version, items[i][0]), features_to_bytes(f))

    return pooled_features(trunk, [im for _, im in items], chunk=chunk, each=store)


def kept_versions(*, session: Session, project_id: int) -> set[int]:
    """Representation versions whose features are still read: the newest ready one (what the next version
    trains on) and the live model version's (what scoring reads)."""
    keep: set[int] = set()
    current = representations.current(session=session, project_id=project_id)
    if current is not None:
        keep.add(current.version)
    live = promotion.live_version(session=session, project_id=project_id)
    if live is not None and live.representation_version and live.representation_version.isdigit():
        keep.add(int(live.representation_version))
    return keep


def sweep(*, session: Session, project_ids: Sequence[int] | None = None, grace_seconds: float = 0.0) -> list[str]:
    """Delete cached features nothing reads: whole folders of representations not kept (kept_versions),
    and files of items that no longer exist once older than `grace_seconds` (an upload in flight in
    another process is younger). Returns the relative paths deleted (a folder counts as one)."""
    root = storage.data_dir()
    projects = root / "projects"
    if not projects.is_dir():
        return []
    deleted: list[str] = []
    cutoff = time.time() - grace_seconds
    for folder in sorted(projects.glob(f"*/{FOLDER}")):
        if not folder.parent.name.isdigit():
            continue
        project_id = int(folder.parent.name)
        if project_ids is not None and project_id not in project_ids:
            continue
        keep = kept_versions(session=session, project_id=project_id)
        known = set(session.scalars(select(Item.id).where(Item.project_id == project_id)))
        for rep_dir in folder.glob("r*"):
            if rep_dir.name[1:].isdigit() and int(rep_dir.name[1:]) not in keep:
                shutil.rmtree(rep_dir, ignore_errors=True)
                deleted.append(rep_dir.relative_to(root).as_posix())
                continue
            for path in rep_dir.glob("*.npy"):
                if not (path.stem.isdigit() and int(path.stem) in known) and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    deleted.append(path.relative_to(root).as_posix())
    return deleted
