from __future__ import annotations

from pydantic import BaseModel


class PolicyIn(BaseModel):
    # plain floats: the service checks [0, 1] and names the field in its 422
    bar: float
    audit_share: float


class AutoLabelRead(BaseModel):
    bar: float | None
    audit_share: float | None
    machine_labels: int
    audits_done: int
    audits_pending: int
    audit_miou_fg: float | None
    audit_error: float | None


class AppliedRead(BaseModel):
    machine_labels: int
    audits: int
    model_version_id: int | None
