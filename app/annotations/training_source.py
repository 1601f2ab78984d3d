"""Which mask training reads for a task, given its current (latest submitted) version.

  * The task's latest adjudicated version, when it has one: it settles the copies, and a later plain
    version does not undo it.
  * An overlap task's copies without adjudication: their pixel-wise majority (consensus.majority_mask),
    never whichever copy happened to arrive last.
  * Any other task: its current version.

The adjudications and copies of the whole project are read in two queries up front, so building a
training set costs no query per label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import imaging, storage
from app.annotations import consensus
from app.annotations.models import Annotation
from app.queue import overlap
from app.queue.models import Task


def _load(annotation: Annotation) -> np.ndarray:
    return imaging.decode_png_array(storage.read(annotation.mask_path))


@dataclass
class TrainingSources:
    session: Session
    adjudicated: dict[int, Annotation]  # task id -> its latest adjudicated version
    copies: dict[int, list[int]]  # overlap task id -> annotation ids of its copies (2 or more)

    @classmethod
    def of(cls, *, session: Session, project_id: int) -> TrainingSources:
        settled: dict[int, Annotation] = {}
        for a in session.scalars(select(Annotation).join(Task, Task.id == Annotation.task_id)
                                 .where(Task.project_id == project_id, Annotation.adjudicated)
                                 .order_by(Annotation.version)):
            settled[a.task_id] = a  # ordered by version: the latest wins
        copies = {t: ids for t, ids in overlap.copy_annotation_ids(session=session, project_id=project_id).items()
                  if len(ids) >= 2}
        return cls(session, settled, copies)

    def mask(self, current: Annotation) -> np.ndarray:
        settled = current if current.adjudicated else self.adjudicated.get(current.task_id)
        if settled is not None:
            return _load(settled)
        ids = self.copies.get(current.task_id)
        if not ids:
            return _load(current)
        rows = [self.session.get(Annotation, i) for i in ids]
        return consensus.majority_mask([_load(a) for a in rows if a is not None])
