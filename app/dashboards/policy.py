"""The sampling-policy page: the current policy as a form, its change history, and saving a change
(a new version; the flow re-ranks the queue). Leads and admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.deps import PageProject, PageUser, SessionDep, require_role
from app.errors import DomainError
from app.flows import policy as policy_flow
from app.modeling import promotion
from app.projects import policy as policy_service
from app.projects.models import Project
from app.projects.service import STRATEGIES, ProjectError
from app.security import csrf_protect
from app.templating import render

router = APIRouter(include_in_schema=False)

NUMBERS = ("weight_uncertainty", "weight_diversity", "weight_class_boost", "steered_share")


def form_values(policy: Any) -> dict[str, str]:
    """What the form shows for a stored version."""
    return {
        "strategy": policy.strategy,
        **{key: f"{getattr(policy, key):g}" for key in NUMBERS},
        "unit": "tiles" if policy.task_tile else "image",
        "task_tile": str(policy.task_tile or ""),
        "retrain_trigger": policy.retrain_trigger,
        "retrain_every": str(policy.retrain_every),
        "retrain_hours": f"{policy.retrain_hours:g}" if policy.retrain_hours is not None else "",
        "reason": "",
    }


def _number(form: dict[str, str], key: str, kind: type = float) -> Any:
    text = form.get(key, "").strip()
    try:
        return kind(text)
    except ValueError:
        raise ProjectError(f"{key}: {text!r} is not a {'whole ' if kind is int else ''}number") from None


def parse_form(form: dict[str, str]) -> dict[str, Any]:
    """The submitted form as policy fields; a value that is not a number is refused naming its field."""
    changes: dict[str, Any] = {"strategy": form.get("strategy", ""), "retrain_trigger": form.get("retrain_trigger", "")}
    for key in NUMBERS:
        changes[key] = _number(form, key)
    changes["task_tile"] = _number(form, "task_tile", int) if form.get("unit") == "tiles" else None
    changes["retrain_every"] = _number(form, "retrain_every", int)
    changes["retrain_hours"] = _number(form, "retrain_hours") if form.get("retrain_hours", "").strip() else None
    return changes


def _page(request: Request, session: Session, project: Project, user: User, *, values: dict[str, str],
          error: str | None = None, saved: int | None = None, status_code: int = 200) -> Response:
    versions = policy_service.history(session=session, project_id=project.id)
    names = auth_service.usernames(session=session, user_ids=[v.author_id for v in versions if v.author_id])
    return render(request, "projects/policy.html", {
        "user": user, "project": project, "values": values, "error": error, "saved": saved,
        "current": policy_service.current(session=session, project=project),
        "versions": [(v, names.get(v.author_id or 0, "—")) for v in versions],
        "strategies": STRATEGIES, "triggers": policy_service.TRIGGERS,
        "smallest": policy_flow.smallest_image(session=session, project_id=project.id),
        "live": promotion.live_version(session=session, project_id=project.id),
    }, status_code=status_code)


@router.get("/projects/{project_id}/policy")
def policy_page(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                saved: int | None = None) -> Response:
    require_role(user, Role.lead)
    values = form_values(policy_service.current(session=session, project=project))
    return _page(request, session, project, user, values=values, saved=saved)


FormText = Annotated[str, Form(max_length=500)]


@router.post("/projects/{project_id}/policy", dependencies=[Depends(csrf_protect)])
def save_policy(request: Request, project: PageProject, user: PageUser, session: SessionDep,
                strategy: FormText = "", weight_uncertainty: FormText = "", weight_diversity: FormText = "",
                weight_class_boost: FormText = "", steered_share: FormText = "", unit: FormText = "image",
                task_tile: FormText = "", retrain_trigger: FormText = "", retrain_every: FormText = "",
                retrain_hours: FormText = "", reason: FormText = "") -> Response:
    require_role(user, Role.lead)
    form = {"strategy": strategy, "weight_uncertainty": weight_uncertainty, "weight_diversity": weight_diversity,
            "weight_class_boost": weight_class_boost, "steered_share": steered_share, "unit": unit,
            "task_tile": task_tile, "retrain_trigger": retrain_trigger, "retrain_every": retrain_every,
            "retrain_hours": retrain_hours, "reason": reason}
    try:
        row = policy_flow.change_policy(session=session, project=project, user=user, reason=reason,
                                        **parse_form(form))
    except DomainError as exc:  # the form again, with what was typed and what is wrong; nothing was saved
        session.rollback()
        return _page(request, session, project, user, values=form, error=str(exc), status_code=exc.status)
    return RedirectResponse(f"/projects/{project.id}/policy?saved={row.version}", status_code=303)
