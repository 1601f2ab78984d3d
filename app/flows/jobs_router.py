"""The JSON routes of tracked jobs (app/jobs/progress.py): start an import of many files or a zip, list and
follow a project's jobs, cancel one. Training starts at POST /models/train (app/flows/router.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from app import imaging, limits
from app.auth.models import Role
from app.config import get_settings
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import NotFound
from app.flows import import_jobs
from app.items.models import Split
from app.jobs import progress
from app.jobs.schemas import JobPage, JobRead
from app.modeling import scoring
from app.pagination import PageQuery, page
from app.schemas import Ok
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["jobs"], dependencies=[Depends(csrf_protect)])


def _read_all(uploads: list[UploadFile] | None, limit: int, what: str) -> list[tuple[str, bytes]]:
    return [(u.filename or what, imaging.read_bounded(u.file, limit=limit, what=f"{what} {u.filename!r}"))
            for u in uploads or []]


@router.post("/import/jobs", status_code=202, openapi_extra=limits.UPLOAD)
def start_import(
    project: ApiProject, user: ApiUser, session: SessionDep,
    files: Annotated[list[UploadFile], File(description="images and/or zip archives (a zip may hold masks/ or a "
                                                        "COCO or Label Studio .json)")],
    masks: Annotated[list[UploadFile] | None, File(description="PNG masks named like their images "
                                                               "(pixel = class id, 255 = unlabeled)")] = None,
    annotations: Annotated[UploadFile | None, File(description="a COCO or Label Studio JSON file")] = None,
    split: Annotated[Split, Form()] = Split.pool,
) -> JobRead:
    """Stage the files and start an import job; follow it at /jobs/{id}. Duplicate images (by pixel checksum)
    are skipped and listed per file in the job's result; any other bad file refuses the whole import."""
    require_role(user, Role.lead)
    settings = get_settings()
    uploaded = _read_all(files, settings.max_upload_request_bytes, "file")
    bundle = import_jobs.bundle_of(
        images=[(n, d) for n, d in uploaded if not n.lower().endswith(".zip")],
        zips=[(n, d) for n, d in uploaded if n.lower().endswith(".zip")],
        masks=_read_all(masks, settings.max_upload_bytes, "mask"),
        annotations=_read_all([annotations], settings.max_upload_bytes, "annotation file")[0] if annotations
        else None)
    run = import_jobs.start_import(session=session, project=project, user=user, bundle=bundle, split=split)
    return JobRead.of(run)


@router.get("/jobs")
def list_jobs(project: ApiProject, session: SessionDep, paging: PageQuery, response: Response) -> JobPage:
    """The project's tracked jobs (imports, trainings), newest first."""
    offset, limit = paging.fetch()
    rows = progress.of_project(session=session, project_id=project.id, offset=offset, limit=limit)
    return page(JobPage, rows, paging, response, JobRead.of)


@router.get("/jobs/{job_id}")
def get_job(job_id: int, project: ApiProject, session: SessionDep) -> JobRead:
    run = progress.get(session=session, project_id=project.id, run_id=job_id)
    if run is None:
        raise NotFound("no such job in this project")
    return JobRead.of(run)


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> JobRead:
    """Ask a job to stop: a queued one stops at once, a running one after its current file or epoch, keeping
    nothing of its work. A job that has ended already is left as it is (the answer says how it ended)."""
    require_role(user, Role.lead)
    run = progress.get(session=session, project_id=project.id, run_id=job_id)
    if run is None:
        raise NotFound("no such job in this project")
    progress.request_cancel(run=run, user_id=user.id)
    return JobRead.of(run)


@router.post("/scoring/{scoring_run_id}/cancel")
def cancel_scoring(scoring_run_id: int, project: ApiProject, user: ApiUser, session: SessionDep) -> Ok:
    """Stop a scoring pass (the Jobs panel's Cancel): its chunks not yet scored score nothing and it is not
    ranked, so the queue keeps its ranking before it. 409 when the pass has ended already."""
    require_role(user, Role.lead)
    scoring.cancel_run(session=session, project_id=project.id, run_id=scoring_run_id, user_id=user.id)
    session.commit()
    return Ok()
