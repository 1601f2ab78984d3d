"""The sampling mix by class: each class's share of the labeled pixels per pick kind and strategy, against a
hand-computed case (tests/dashboards/desk_scene.py); and the per-class counts a submit stores, which the
chart sums."""

from __future__ import annotations

import csv
import io

import numpy as np
from sqlalchemy import select

from app.annotations.class_pixels import AnnotationClassPixels
from app.annotations.models import Annotation
from app.db import session_scope
from app.queue.models import Task
from tests.dashboards.desk_scene import seed_desk
from tests.factories import login, make_project, make_user, png_bytes
from tests.scenes import add_items, lease


def _rows(client, pid):  # type: ignore[no-untyped-def]
    r = client.get(f"/projects/{pid}/dashboard/mix_classes.csv")
    assert r.status_code == 200
    rows = csv.DictReader(io.StringIO(r.text))
    return [(r["pick"], r["strategy"], r["class"], r["pixels"], r["share"]) for r in rows]


def test_class_shares_per_pick_kind_match_a_hand_computed_case(client, backend):
    pid = seed_desk()  # its labels' pixels per class: desk_scene's RANDOM_, RANKED_ and UNRANKED_PIXELS
    login(client, "lead")
    assert _rows(client, pid) == [
        ("random", "hybrid", "background", "300", "0.8571"), ("random", "hybrid", "curve-1", "50", "0.1429"),
        ("random", "hybrid", "curve-2", "0", "0.0"),
        ("ranked", "hybrid", "background", "120", "0.2264"), ("ranked", "hybrid", "curve-1", "50", "0.0943"),
        ("ranked", "hybrid", "curve-2", "360", "0.6792"),
        ("unranked", "–", "background", "35", "1.0"), ("unranked", "–", "curve-1", "0", "0.0"),
        ("unranked", "–", "curve-2", "0", "0.0")]
    # A label arriving later (v2's random share: 50 curve-2 pixels) is added once, however often one looks.
    with session_scope() as session:
        from datetime import timedelta

        from app.annotations.models import AnnotationStatus
        from app.modeling.models import ModelVersion, Score
        from app.queue.models import TaskStatus

        v2 = session.scalars(select(ModelVersion).where(ModelVersion.version == 2)).one()
        task = session.scalars(select(Task).where(Task.project_id == pid, Task.status == TaskStatus.open)).first()
        assert task is not None
        session.add(Score(task_id=task.id, model_version_id=v2.id, value=0.1, strategy="hybrid",
                          components={"steered_random": 1.0}))
        late = Annotation(task_id=task.id, item_id=task.item_id, project_id=task.project_id,
                          version=1, author_id=2, mask_path="y.png",
                          status=AnnotationStatus.submitted, model_version_id=v2.id,
                          created_at=v2.created_at + timedelta(days=1))
        session.add(late)
        session.flush()
        session.add(AnnotationClassPixels(annotation_id=late.id, class_index=2, pixels=50))
    for _ in range(2):
        assert _rows(client, pid)[:3] == [("random", "hybrid", "background", "300", "0.75"),
                                          ("random", "hybrid", "curve-1", "50", "0.125"),
                                          ("random", "hybrid", "curve-2", "50", "0.125")]
    page = client.get(f"/projects/{pid}/dashboard").text
    assert 'data-testid="chart-mix_classes"' in page and "/dashboard/mix_classes.csv" in page
    plot = client.get(f"/api/v1/projects/{pid}/dashboard/mix_classes").json()
    assert plot["summary"]["groups"] == ["random · hybrid", "ranked · hybrid", "unranked · –"]


def test_a_submit_stores_its_pixels_per_class(client):
    make_user("lead", "lead")
    make_user("ann")
    pid = make_project(owner="lead", members=("ann",))
    add_items(pid, 1)
    task_id = lease(pid, "ann")
    token = login(client, "ann")
    mask = np.full((16, 16), 255, np.uint8)
    mask[:4] = 0  # 64 background
    mask[4:5] = 2  # 16 curve-2; the rest unlabeled
    r = client.post(f"/api/v1/projects/{pid}/tasks/{task_id}/annotations", headers={"X-CSRF-Token": token},
                    files={"mask": ("m.png", png_bytes(mask), "image/png")})
    assert r.status_code == 201, r.text
    with session_scope() as session:
        annotation = session.scalars(select(Annotation).join(Task).where(Task.project_id == pid)).one()
        rows = session.execute(select(AnnotationClassPixels.class_index, AnnotationClassPixels.pixels)
                               .where(AnnotationClassPixels.annotation_id == annotation.id)
                               .order_by(AnnotationClassPixels.class_index)).all()
    assert [tuple(r) for r in rows] == [(0, 64), (2, 16)]
