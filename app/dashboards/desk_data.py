"""The lead's dashboard figures, each a small table aggregated in SQL (one query or two per chart):
what the page draws, the CSV holds and the API returns.

A `Table` has named columns and rows; `summary` holds the few numbers a chart's caption states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import case, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.alerts import service as alert_service
from app.alerts.sla import RULES
from app.annotations.class_pixels import AnnotationClassPixels
from app.annotations.models import Annotation
from app.auth import service as auth_service
from app.dashboards.models import LabelMixPixels, LabelPick
from app.db import utcnow
from app.items.models import Item, Split
from app.modeling.models import ModelStatus, ModelVersion, Score
from app.projects.models import Project
from app.queue.models import Lease, Task, TaskStatus

Cell = float | int | str | None


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def _ready_versions(session: Session, project_id: int) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).where(
        ModelVersion.project_id == project_id, ModelVersion.status == ModelStatus.ready)
        .order_by(ModelVersion.version)))


def _not_validation(project_id: int, item_id: Any) -> Any:
    """Rows of pool items: an anti-join on the project's few validation items (index project_id, split),
    far cheaper than joining every item of a large project."""
    return ~exists().where(Item.id == item_id, Item.project_id == project_id, Item.split == Split.validation)


def _r(value: Any, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


# --- model quality ---------------------------------------------------------------------------------

def iou_per_version(session: Session, project: Project) -> Table:
    """Per-class validation IoU of every ready version (the figures training stored)."""
    classes = sorted(project.classes, key=lambda c: c.index)
    table = Table("iou", "Per-class IoU per model version",
                  ["version", "labels", "miou_fg", *[f"iou_{c.name}" for c in classes]])
    for mv in _ready_versions(session, project.id):
        per_class = mv.metrics.get("per_class", {})
        table.rows.append([mv.version, mv.label_count, _r(mv.metrics.get("miou_fg")),
                           *[_r(per_class.get(str(c.index), {}).get("iou")) for c in classes]])
    return table


def calibration(session: Session, project: Project) -> Table:
    """The newest calibrated version's reliability diagram, before and after temperature scaling."""
    table = Table("calibration", "Calibration (reliability diagram)",
                  ["bin_lo", "bin_hi", "pixels", "confidence_before", "accuracy_before", "confidence_after",
                   "accuracy_after"])
    for mv in reversed(_ready_versions(session, project.id)):
        cal = mv.metrics.get("calibration")
        if not cal or "bins_before" not in cal:
            continue
        before, after = cal["bins_before"]["overall"], cal["bins_after"]["overall"]
        for b, a in zip(before, after, strict=True):
            table.rows.append([_r(b["lo"], 3), _r(b["hi"], 3), int(b["count"]), _r(b["confidence"]),
                               _r(b["accuracy"]), _r(a["confidence"]), _r(a["accuracy"])])
        table.summary = {"version": mv.version, "ece_before": _r(cal["ece_before"]), "ece_after": _r(cal["ece_after"]),
                         "temperature": _r(cal["temperature"], 3), "pixels": cal.get("pixels")}
        break
    return table


# --- sampling: random control against ranked picks ----------------------------------------------------

def _pick_kind(project_id: int):  # type: ignore[no-untyped-def]
    """(annotation id, created_at, pick kind, strategy, fg fraction) of every first label of a pool task:
    'random' when the ranking the annotator was served put it in the steered random share, 'ranked' when
    the strategy chose it, 'unranked' before any ranking (the queue then runs in upload order)."""
    steered = Score.components["steered_random"].as_float()
    kind = case((Annotation.model_version_id.is_(None), literal_column("'unranked'")),
                (func.coalesce(steered, 0.0) > 0, literal_column("'random'")), else_=literal_column("'ranked'"))
    return (
        select(Annotation.id, Annotation.created_at, kind,
               func.coalesce(Score.strategy, literal_column("''")), Score.components["fg_fraction"].as_float())
        .join(Task, Task.id == Annotation.task_id)
        .outerjoin(Score, (Score.task_id == Annotation.task_id)
                   & (Score.model_version_id == Annotation.model_version_id))
        .where(Task.project_id == project_id, Annotation.version == 1, _not_validation(project_id, Annotation.item_id))
    )


# Ids below the newest classified one that are looked at again: a label whose transaction committed after
# a newer one's was classified is still found (a range scan of the key; conflicts are skipped).
RECHECK_IDS = 1000


def refresh_label_picks(session: Session, project_id: int) -> None:
    """Classify the labels not yet in label_pick (the newest few after the first time); the caller commits."""
    last = session.scalar(select(func.max(LabelPick.annotation_id)).where(LabelPick.project_id == project_id))
    new = _pick_kind(project_id)
    if last is not None:
        new = new.where(Annotation.id > last - RECHECK_IDS)
    columns = ["annotation_id", "created_at", "kind", "strategy", "fg_fraction"]
    rows = new.add_columns(literal_column(str(int(project_id))).label("project_id")).subquery()
    insert = (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(LabelPick)
    new_rows = select(*rows.c).where(literal_column("1") == 1)
    added = session.execute(insert.from_select([*columns, "project_id"], new_rows)
                            .on_conflict_do_nothing(index_elements=["annotation_id"])
                            .returning(LabelPick.annotation_id, LabelPick.kind, LabelPick.strategy)).all()
    if added:  # only the rows this call inserted: a concurrent look classifies the others, and counts them
        _add_mix_pixels(session, project_id, [(int(a), str(k), str(st)) for a, k, st in added])


def _add_mix_pixels(session: Session, project_id: int, labels: list[tuple[int, str, str]]) -> None:
    """Add the newly classified labels' pixels per class (stored at submit) to label_mix_pixels."""
    pick = {annotation_id: (kind, strategy) for annotation_id, kind, strategy in labels}
    ids = sorted(pick)
    sums: dict[tuple[str, str, int], int] = {}
    for start in range(0, len(ids), 5000):
        for annotation_id, index, n in session.execute(
                select(AnnotationClassPixels.annotation_id, AnnotationClassPixels.class_index,
                       AnnotationClassPixels.pixels)
                .where(AnnotationClassPixels.annotation_id.in_(ids[start:start + 5000]))):
            key = (*pick[annotation_id], int(index))
            sums[key] = sums.get(key, 0) + int(n)
    if not sums:
        return
    dialect_insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    upsert = dialect_insert(LabelMixPixels).values([
        {"project_id": project_id, "kind": kind, "strategy": strategy, "class_index": index, "pixels": n}
        for (kind, strategy, index), n in sorted(sums.items())])
    session.execute(upsert.on_conflict_do_update(
        index_elements=["project_id", "kind", "strategy", "class_index"],
        set_={"pixels": LabelMixPixels.pixels + upsert.excluded.pixels}))


def _pick_counts(session: Session, project_id: int,
                 versions: list[ModelVersion]) -> list[tuple[int, str, str, int, float, int]]:
    """(version bucket, pick kind, strategy, labels, sum and count of fg_fraction), from label_pick: what
    both the efficiency and the mix chart read.

    A label's bucket is the first version created after it (the one that could train on it), 0 after
    the newest. Grouped on a subquery's columns: Postgres groups by columns, not by expressions that
    hold parameters. Kept for the rest of the request (its session): both charts ask."""
    key = ("desk_pick_counts", project_id, tuple((v.version, v.created_at) for v in versions))
    if key in session.info:
        return session.info[key]  # type: ignore[no-any-return]
    refresh_label_picks(session, project_id)
    bucket = case(*[(LabelPick.created_at < v.created_at, literal_column(str(int(v.version)))) for v in versions],
                  else_=literal_column("0")) if versions else literal_column("0")
    bucketed = (select(bucket.label("bucket"), LabelPick.kind, LabelPick.strategy, LabelPick.fg_fraction)
                .where(LabelPick.project_id == project_id).subquery())
    rows = [(int(b), str(k), str(st), int(n), float(fs or 0.0), int(fn)) for b, k, st, n, fs, fn in session.execute(
        select(bucketed.c.bucket, bucketed.c.kind, bucketed.c.strategy, func.count(), func.sum(bucketed.c.fg_fraction),
               func.count(bucketed.c.fg_fraction))
        .group_by(bucketed.c.bucket, bucketed.c.kind, bucketed.c.strategy))]
    session.info[key] = rows
    return rows


def gains_per_label(steps: list[tuple[float, int, int]]) -> dict[str, float | None]:
    """Least squares over the steps between versions: delta mIoU = g_random * random labels + g_ranked *
    ranked labels. Needs the mix to have varied (the first version's labels come before any ranking);
    None when the two cannot be told apart (fewer than two steps, or the mixes are collinear)."""
    if len(steps) < 2:
        return {"random": None, "ranked": None}
    a = np.array([[r, s] for _, r, s in steps], np.float64)
    y = np.array([d for d, _, _ in steps], np.float64)
    if np.linalg.matrix_rank(a) < 2 or np.linalg.cond(a) > 1e6:
        return {"random": None, "ranked": None}
    g, *_ = np.linalg.lstsq(a, y, rcond=None)
    return {"random": _r(g[0], 6), "ranked": _r(g[1], 6)}


def efficiency(session: Session, project: Project) -> Table:
    """The project's label-efficiency curve (validation foreground mIoU against labels) with the labels
    each version added split into random-share picks (plus the unranked start) and ranked picks, and
    the validation gain per label of each estimated from the steps between versions."""
    table = Table("efficiency", "Label efficiency: ranked picks against the random share",
                  ["version", "labels", "miou_fg", "new_random", "new_ranked", "new_unranked",
                   "random_only_curve"])
    versions = [v for v in _ready_versions(session, project.id) if v.metrics.get("miou_fg") is not None]
    if not versions:
        return table
    counts: dict[tuple[int, str], int] = {}
    for bucket, kind, _strategy, n, _fg_sum, _fg_n in _pick_counts(session, project.id, versions):
        counts[(bucket, kind)] = counts.get((bucket, kind), 0) + n
    steps, previous = [], None
    for v in versions:
        new = {k: counts.get((v.version, k), 0) for k in ("random", "ranked", "unranked")}
        table.rows.append([v.version, v.label_count, _r(v.metrics["miou_fg"]), new["random"], new["ranked"],
                           new["unranked"], None])
        if previous is not None:
            steps.append((v.metrics["miou_fg"] - previous.metrics["miou_fg"], new["random"] + new["unranked"],
                          new["ranked"]))
        previous = v
    gains = gains_per_label(steps)
    if gains["random"] is not None:  # what the random share's gain per label would have reached alone
        start = table.rows[0]
        for row in table.rows:
            row[6] = _r(float(start[2] or 0) + gains["random"] * (int(row[1] or 0) - int(start[1] or 0)))
    table.summary = {"gain_per_label_random": gains["random"], "gain_per_label_ranked": gains["ranked"],
                     "steps": len(steps),
                     "labels_random": sum(int(r[3] or 0) + int(r[5] or 0) for r in table.rows),
                     "labels_ranked": sum(int(r[4] or 0) for r in table.rows)}
    return table


def sampling_mix(session: Session, project: Project) -> Table:
    """What was labeled, by how it was picked and under which strategy, with the picks' mean predicted
    foreground share (the class mix the model expected in them)."""
    table = Table("mix", "Sampling mix", ["pick", "strategy", "labels", "mean_fg_fraction"])
    versions = [v for v in _ready_versions(session, project.id) if v.metrics.get("miou_fg") is not None]
    mix: dict[tuple[str, str], list[float]] = {}
    for _bucket, kind, strategy, n, fg_sum, fg_n in _pick_counts(session, project.id, versions):
        m = mix.setdefault((kind, strategy), [0, 0.0, 0])
        m[0], m[1], m[2] = m[0] + n, m[1] + fg_sum, m[2] + fg_n
    for (kind, strategy), (labels, fg_total, fg_count) in sorted(mix.items()):
        table.rows.append([kind, strategy or "–", int(labels), _r(fg_total / fg_count) if fg_count else None])
    return table


def sampling_mix_classes(session: Session, project: Project) -> Table:
    """The class mix of the labels each kind of pick brought in: per pick kind and strategy, each class's
    share of the labeled pixels of those picks' first labels (the counts stored at submit, summed into
    label_mix_pixels as the labels are classified). Labels stored before those counts existed are not in it."""
    classes = sorted(project.classes, key=lambda c: c.index)
    table = Table("mix_classes", "Sampling mix by class", ["pick", "strategy", "class", "pixels", "share"])
    refresh_label_picks(session, project.id)
    pixels: dict[tuple[str, str], dict[int, int]] = {}
    for kind, strategy, index, n in session.execute(
            select(LabelMixPixels.kind, LabelMixPixels.strategy, LabelMixPixels.class_index, LabelMixPixels.pixels)
            .where(LabelMixPixels.project_id == project.id)):
        pixels.setdefault((str(kind), str(strategy)), {})[int(index)] = int(n or 0)
    for (kind, strategy), counts in sorted(pixels.items()):
        total = sum(counts.values())
        for c in classes:
            n = counts.get(c.index, 0)
            table.rows.append([kind, strategy or "–", c.name, n, _r(n / total) if total else None])
    table.summary = {"groups": [f"{k} · {s or '–'}" for k, s in sorted(pixels)], "classes": [c.name for c in classes]}
    return table


# --- people and the queue ------------------------------------------------------------------------------

def throughput(session: Session, project: Project, *, days: int = 14, now: datetime | None = None) -> Table:
    """Labels per annotator per day over the last `days`, with the mean active seconds per label."""
    now = now or utcnow()
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = func.date(Annotation.created_at)
    rows = session.execute(
        select(Annotation.author_id, day, func.count(), func.avg(Annotation.seconds_spent))
        .join(Task, Task.id == Annotation.task_id)
        .where(Task.project_id == project.id, Annotation.created_at >= since, Annotation.version == 1)
        .group_by(Annotation.author_id, day).order_by(day, Annotation.author_id)).all()
    names = auth_service.usernames(session=session, user_ids=sorted({r[0] for r in rows}))
    table = Table("throughput", "Throughput and active seconds per label",
                  ["day", "annotator", "labels", "active_seconds_per_label"])
    totals: dict[str, list[float]] = {}
    for uid, d, n, secs in rows:
        name = names.get(uid, f"user {uid}")
        table.rows.append([str(d)[:10], name, int(n), _r(secs, 1)])
        t = totals.setdefault(name, [0, 0.0])
        t[0] += int(n)
        t[1] += float(secs or 0) * int(n)
    table.summary = {"days": days, "since": since.date().isoformat(),
                     "annotators": {k: {"labels": int(v[0]), "active_seconds_per_label": _r(v[1] / v[0], 1)}
                                    for k, v in sorted(totals.items())}}
    return table


AGE_BUCKETS = [("< 1 h", timedelta(hours=1)), ("1–24 h", timedelta(days=1)), ("1–7 d", timedelta(days=7)),
               ("7–30 d", timedelta(days=30)), ("> 30 d", None)]


def queue_depth(session: Session, project: Project, *, now: datetime | None = None) -> Table:
    """Open pool tasks by age, how many are leased now, the oldest, and the escalated ones."""
    now = now or utcnow()
    bucket = case(*[(Task.created_at > now - limit, literal_column(str(i))) for i, (_, limit) in enumerate(AGE_BUCKETS)
                    if limit is not None], else_=literal_column(str(len(AGE_BUCKETS) - 1)))
    aged = (select(bucket.label("bucket"), Task.created_at)
            .where(Task.project_id == project.id, Task.status == TaskStatus.open,
                   _not_validation(project.id, Task.item_id))).subquery()
    counted: dict[int, int] = {}
    oldest = None
    for b, n, first in session.execute(select(aged.c.bucket, func.count(), func.min(aged.c.created_at))
                                       .group_by(aged.c.bucket)):
        counted[int(b)] = int(n)
        oldest = first if oldest is None or (first is not None and first < oldest) else oldest
    table = Table("queue", "Queue depth and age", ["age", "open_tasks"],
                  [[label, int(counted.get(i, 0))] for i, (label, _) in enumerate(AGE_BUCKETS)])
    leased = session.scalar(select(func.count()).select_from(Lease).join(Task, Task.id == Lease.task_id).where(
        Task.project_id == project.id, Task.status == TaskStatus.open, Lease.released_at.is_(None),
        Lease.expires_at > now))
    escalated = session.scalar(select(func.count()).select_from(Task).where(
        Task.project_id == project.id, Task.status == TaskStatus.escalated))
    table.summary = {"depth": sum(int(r[1] or 0) for r in table.rows), "leased": int(leased or 0),
                     "escalated": int(escalated or 0),
                     "oldest_age_hours": _r((now - oldest).total_seconds() / 3600, 1) if oldest else None}
    return table


def breaches(session: Session, project: Project, *, now: datetime | None = None) -> Table:
    """Open SLA breaches, oldest first, with the task and the person involved."""
    now = now or utcnow()
    rows = alert_service.open_breaches(session=session, project_id=project.id)
    names = auth_service.usernames(session=session, user_ids=sorted({b.user_id for b in rows if b.user_id}))
    table = Table("breaches", "SLA breaches (open)",
                  ["rule", "subject", "task_id", "person", "opened_at", "open_hours", "detail"])
    for b in rows:
        detail = "; ".join(f"{k}={v}" for k, v in sorted(b.detail.items()) if k != "username")
        table.rows.append([b.rule, b.subject, b.task_id, names.get(b.user_id or 0), b.opened_at.isoformat(),
                           _r((now - b.opened_at).total_seconds() / 3600, 2), detail])
    counts = alert_service.breach_counts(session=session, project_id=project.id)
    table.summary = {"by_rule": {rule: counts.get(rule, 0) for rule in RULES}, "rules": RULES}
    return table


CHARTS = {"iou": iou_per_version, "efficiency": efficiency, "calibration": calibration, "mix": sampling_mix,
          "mix_classes": sampling_mix_classes,
          "throughput": throughput, "queue": queue_depth, "breaches": breaches}


def chart(session: Session, project: Project, name: str) -> Table | None:
    build = CHARTS.get(name)
    return build(session, project) if build else None
