"""A project with one overlap task that two annotators labeled differently: what the agreement API,
the quality page and the adjudication view are tested on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tests.factories import make_project, make_user


@dataclass
class Disputed:
    project_id: int
    task_id: int
    copies: dict[str, int]  # annotator -> annotation id
    masks: dict[str, np.ndarray]


def disputed_task(size: int = 64, image_seed: int = 4) -> Disputed:
    """Users lead (lead), alice and bob (annotators); overlap on every task with k=2. alice labels the chart's
    curves as the truth has them; bob shifts curve-1 four pixels right and calls curve-2 curve-1."""
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.flows import submit, uploads
    from app.items.models import Split
    from app.learning.welllog import generate_dataset
    from app.projects.models import Project
    from app.queue import overlap
    from app.queue import service as queue_service

    make_user("lead", "lead")
    make_user("alice")
    make_user("bob")
    pid = make_project(owner="lead", members=("alice", "bob"), retrain_every=1000)
    (image, truth), = generate_dataset(1, seed=image_seed, size=size)
    truth = truth.astype(np.uint8)
    shifted = np.zeros_like(truth)
    shifted[:, 4:][truth[:, :-4] == 1] = 1
    shifted[truth == 2] = 1
    masks = {"alice": truth, "bob": shifted}
    with session_scope() as session:
        project = session.get(Project, pid)
        lead = auth_service.get_by_username(session=session, username="lead")
        uploads.add_image(session=session, project=project, filename="chart.png", pixels=image, split=Split.pool,
                          user=None)
        overlap.set_policy(session=session, project=project, user=lead, share=1.0, k=2, uncertainty_threshold=None,
                           agreement_threshold=0.8)
    copies, task_id = {}, 0
    for name in ("alice", "bob"):
        with session_scope() as session:
            project = session.get(Project, pid)
            user = auth_service.get_by_username(session=session, username=name)
            task = queue_service.lease_next(session=session, project=project, user=user)
            assert task is not None and task_id in (0, task.id)
            task_id = task.id
            session.commit()
            copies[name] = submit.submit_label(session=session, project=project, task=task, user=user,
                                               mask=masks[name], trigger_retrain=False).annotation.id
    return Disputed(pid, task_id, copies, masks)
