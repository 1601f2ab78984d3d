"""Request dependencies of the queue: the task named in the path, checked against the project."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import Depends, UploadFile

from app import imaging
from app.config import get_settings
from app.deps import ApiProject, SessionDep
from app.errors import NotFound
from app.items.models import Item
from app.projects.models import Project
from app.queue import service
from app.queue.models import Task


def valid_task(task_id: int, project: ApiProject, session: SessionDep) -> Task:
    """The task, or 404 when it does not exist or belongs to another project."""
    task = service.get_task(session=session, project_id=project.id, task_id=task_id)
    if task is None:
        raise NotFound("task not found")
    return task


TaskDep = Annotated[Task, Depends(valid_task)]


def read_task_mask(session: SessionDep, project: Project, task: Task, upload: UploadFile) -> np.ndarray:
    """The uploaded mask checked against the task's image and the project's classes (422 if not).

    Read through the sync file object: routes that decode or wait on row locks are plain `def`, so
    FastAPI runs them in its thread pool instead of stalling the event loop."""
    item = session.get(Item, task.item_id)
    assert item is not None
    data = imaging.read_bounded(upload.file, limit=get_settings().max_mask_request_bytes, what="mask")
    return imaging.decode_mask(data, width=item.width, height=item.height, num_classes=len(project.classes))
