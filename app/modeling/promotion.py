"""Which model version is live, and the gate a new version passes to become live. No commits here.

The live version is the one that went live last: the queue is scored and ranked with it, and the
labeling page suggests with it. A newly trained version goes live unless its validation foreground
mIoU is worse than the live version's by more than the margin (LABELWISE_PROMOTION_MARGIN); then it is
kept, held back, and a lead may promote it. A lead may also roll back to an earlier ready version.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import User
from app.db import utcnow
from app.errors import Conflict
from app.modeling.models import ModelStatus, ModelVersion

GATE_METRIC = "miou_fg"


class PromotionError(Conflict):
    """The version cannot go live (not ready, or live already): 409."""


@dataclass(frozen=True)
class Gate:
    passed: bool
    reason: str
    candidate: float | None
    live: float | None
    margin: float

    def as_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "reason": self.reason, "candidate": self.candidate, "live": self.live,
                "margin": self.margin, "metric": GATE_METRIC}


def live_version(*, session: Session, project_id: int, other_than: int | None = None) -> ModelVersion | None:
    """The ready version that went live last. Versions from before promotions were recorded (no
    live_since, not held back) rank after those, newest first. `other_than`: a version just trained,
    which is not live yet whatever it looks like."""
    stmt = select(ModelVersion).where(
        ModelVersion.project_id == project_id, ModelVersion.status == ModelStatus.ready,
        (ModelVersion.live_since.is_not(None)) | (ModelVersion.held_back.is_(False)))
    if other_than is not None:
        stmt = stmt.where(ModelVersion.id != other_than)
    return session.scalar(stmt.order_by(ModelVersion.live_since.desc().nulls_last(), ModelVersion.version.desc())
                          .limit(1))


def judge(candidate: ModelVersion, live: ModelVersion | None, margin: float) -> Gate:
    """Whether `candidate` may replace `live` (pure: reads the versions' metrics)."""
    new = candidate.metrics.get(GATE_METRIC)
    old = live.metrics.get(GATE_METRIC) if live is not None else None
    if live is None:
        return Gate(True, "no version was live", new, None, margin)
    if new is None:
        return Gate(True, "no validation score to compare (label the validation split)", new, old, margin)
    if old is None:
        return Gate(True, f"the live version v{live.version} has no validation score", new, old, margin)
    if new < old - margin:
        return Gate(False, f"validation foreground mIoU {new:.3f} is worse than v{live.version}'s {old:.3f} by "
                           f"more than the margin {margin:g}", new, old, margin)
    return Gate(True, f"validation foreground mIoU {new:.3f} against v{live.version}'s {old:.3f} (margin {margin:g})",
                new, old, margin)


def apply_gate(*, session: Session, mv: ModelVersion, margin: float) -> Gate:
    """After training: make `mv` live, or hold it back; the gate's verdict is kept in its metrics."""
    gate = judge(mv, live_version(session=session, project_id=mv.project_id, other_than=mv.id), margin)
    mv.metrics = {**mv.metrics, "gate": gate.as_dict()}
    if gate.passed:
        mv.live_since, mv.held_back = utcnow(), False
    else:
        mv.held_back = True
    audit.record(session=session, action="model.live" if gate.passed else "model.hold", entity="model_version",
                 entity_id=mv.id, project_id=mv.project_id, detail={"version": mv.version, **gate.as_dict()})
    return gate


def make_live(*, session: Session, mv: ModelVersion, user: User, action: str, reason: str = "") -> ModelVersion | None:
    """A lead's promote (a held-back or newer version) or rollback (an earlier one); returns the version
    that was live before. The caller commits, then rescoring follows (app.flows.promotion)."""
    if action not in ("promote", "rollback"):
        raise ValueError(action)
    if mv.status != ModelStatus.ready:
        raise PromotionError(f"model v{mv.version} is {mv.status.value}, not ready: only a trained version can go live")
    before = live_version(session=session, project_id=mv.project_id)
    if before is not None and before.id == mv.id:
        raise PromotionError(f"model v{mv.version} is live already")
    if action == "rollback" and before is not None and mv.version > before.version:
        raise PromotionError(f"model v{mv.version} is newer than the live v{before.version}: promote it instead")
    if action == "promote" and before is not None and mv.version < before.version:
        raise PromotionError(f"model v{mv.version} is older than the live v{before.version}: roll back to it instead")
    mv.live_since, mv.held_back = utcnow(), False
    audit.record(session=session, action=f"model.{action}", entity="model_version", entity_id=mv.id,
                 user_id=user.id, project_id=mv.project_id,
                 detail={"version": mv.version, "was_live": before.version if before else None,
                         "reason": reason.strip()[:500]})
    return before


def state(mv: ModelVersion, live_id: int | None) -> str:
    """What the versions page calls it: live, held back, ready (was live or superseded), or its status."""
    if mv.status != ModelStatus.ready:
        return mv.status.value
    if mv.id == live_id:
        return "live"
    return "held back" if mv.held_back else "ready"
