"""The model versions page: each version's validation figures (per-class IoU and F1, calibration),
training time, labels used, representation and promotion state, with promote / roll back buttons; and
the stop criteria as advice, with their evidence (validation mIoU against labels, drawn with uPlot)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth.models import Role
from app.config import get_settings
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import NotFound
from app.flows import pretrain as pretrain_flow
from app.flows import promotion as promotion_flow
from app.modeling import promotion, representations
from app.modeling import service as model_service
from app.modeling.models import ModelStatus, ModelVersion
from app.projects import policy as policy_service
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)


def evidence(versions: list[ModelVersion]) -> dict[str, list[Any]]:
    """The stop advice's curve: labels used and validation foreground mIoU of each scored version."""
    scored = sorted((v for v in versions if v.status == ModelStatus.ready and v.metrics.get("miou_fg") is not None),
                    key=lambda v: v.version)
    return {"labels": [v.label_count for v in scored], "miou_fg": [round(float(v.metrics["miou_fg"]), 4)
                                                                  for v in scored],
            "versions": [v.version for v in scored]}


@router.get("/projects/{project_id}/models")
def models_page(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                done: str | None = None) -> Response:
    require_role(user, Role.lead)
    versions = model_service.list_versions(session=session, project_id=project.id)
    live = promotion.live_version(session=session, project_id=project.id)
    live_id = live.id if live is not None else None
    batch = policy_service.current(session=session, project=project).retrain_every  # labels until the next version
    return render(request, "projects/models.html", {
        "user": user, "project": project, "versions": versions, "live": live,
        "states": {v.id: promotion.state(v, live_id) for v in versions},
        "margin": get_settings().promotion_margin, "batch": batch,
        "stop": model_service.stop_advice(versions, info_gain_per_label=model_service.next_batch_information(
            session=session, project_id=project.id, size=batch)),
        "evidence": json.dumps(evidence(versions)),
        "done": done if done in ("promote", "rollback", "pretrain") else None,
        "representation": representations.overview(session=session, project_id=project.id),
        "regrow": get_settings().pretrain_regrow,
        "train_mode": get_settings().train_mode,
    })


@router.post("/projects/{project_id}/models/{model_version_id}/{action}", dependencies=[Depends(csrf_protect)])
def make_live(model_version_id: int, action: str, project: PageProject, user: PageUser, session: SessionDep,
              reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Promote or roll back (errors, e.g. a version that is live already, render as a page)."""
    require_role(user, Role.lead)
    mv = model_service.get_version(session=session, project_id=project.id, model_version_id=model_version_id)
    if mv is None or action not in ("promote", "rollback"):
        raise NotFound("no model version with that id in this project")
    promotion_flow.make_live(session=session, project=project, mv=mv, user=user, action=action, reason=reason)
    return RedirectResponse(f"/projects/{project.id}/models?done={action}", status_code=303)


@router.post("/projects/{project_id}/representations/pretrain", dependencies=[Depends(csrf_protect)])
def start_pretrain(project: PageProject, user: PageUser, session: SessionDep) -> Response:
    """A lead's pretraining as a tracked job (the Jobs panel shows it, with Cancel); one running: a 409 page."""
    require_role(user, Role.lead)
    pretrain_flow.start_pretrain_job(session=session, project=project, user=user)
    return RedirectResponse(f"/projects/{project.id}/models?done=pretrain", status_code=303)
