"""The JSON routes that start a cross-domain flow. They live here, above the domains, so that no
domain package imports the flows that import it."""

from __future__ import annotations

import posixpath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from app import imaging, limits
from app.annotations.schemas import AnnotationRead, SubmitRead, as_author_sees
from app.auth.models import Role
from app.autolabel.schemas import AppliedRead
from app.config import get_settings
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.errors import Conflict, NotFound
from app.flows import autolabel, export, imports, leasing, submit, training, uploads
from app.formats import check_path, read_zip
from app.items.models import Split
from app.items.schemas import ImportRead, ItemRead, UploadRead
from app.modeling.schemas import ModelVersionRead
from app.queue import service as queue_service
from app.queue.deps import TaskDep, read_task_mask
from app.queue.router import task_read
from app.queue.schemas import TaskRead
from app.schemas import INT32_MAX
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}", dependencies=[Depends(csrf_protect)])


@router.post("/tasks/next", tags=["queue"])
def next_task(project: ApiProject, user: ApiUser, session: SessionDep) -> TaskRead:
    """Lease the next task: 404 when the queue is empty, 409 when a budget cap (code "budget_cap"), the
    total budget or the project's archive stops it; the message says which and when it resets."""
    task = leasing.next_task(session=session, project=project, user=user)
    # The answer is read before the commit, on the lease's connection: after it the session would check
    # a connection out of the pool again (and ping it), a round trip for nothing.
    answer = task_read(session, task, user) if task is not None else None
    session.commit()
    if answer is None:
        raise NotFound(queue_service.EMPTY_QUEUE)
    return answer


@router.post("/tasks/{task_id}/annotations", status_code=201, tags=["annotations"], response_model=SubmitRead,
             openapi_extra=limits.MASK)
def submit_label(
    task: TaskDep, project: ApiProject, user: ApiUser, session: SessionDep,
    mask: Annotated[UploadFile, File(description="PNG of class ids, 255 = unlabeled")],
    seconds_spent: Annotated[float, Form()] = 0.0,
    client_token: Annotated[str | None, Form(max_length=64)] = None,
    model_version_id: Annotated[int | None, Form(ge=1, le=INT32_MAX)] = None,
    suggestion_fraction: Annotated[float | None, Form()] = None,
) -> JSONResponse:
    """201 with the new version; 200 with the first answer when the same client token arrives again."""
    pixels = read_task_mask(session, project, task, mask)
    done = submit.submit_label(session=session, project=project, task=task, user=user, mask=pixels,
                               seconds_spent=seconds_spent, client_token=client_token,
                               model_version_id=model_version_id, suggestion_fraction=suggestion_fraction)
    body = SubmitRead(**as_author_sees(AnnotationRead.model_validate(done.annotation)).model_dump(),
                      retrain_queued=done.retrain is not None)
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if done.created else 200)


@router.post("/models/train", status_code=202, tags=["models"])
def request_training(project: ApiProject, user: ApiUser, session: SessionDep) -> ModelVersionRead:
    """Queue a new model version, trained by a tracked job (see /jobs: progress, cancel)."""
    require_role(user, Role.lead)
    started = training.start_training_job(session=session, project=project, user=user)
    if started is None:
        raise Conflict("a model version is already queued or training")
    return ModelVersionRead.model_validate(started[0])


@router.post("/items", status_code=201, tags=["items"], openapi_extra=limits.UPLOAD)
def upload_items(
    project: ApiProject, user: ApiUser, session: SessionDep,
    files: Annotated[list[UploadFile], File(description="images")],
    split: Annotated[Split, Form()] = Split.pool,
) -> UploadRead:
    """All or nothing: if any file is refused, none is stored. Plain `def` (thread pool): decoding is
    CPU work and the project's upload lock may mean a wait."""
    require_role(user, Role.lead)
    files_read = uploads.read_files((upload.filename or "upload", upload.file) for upload in files)
    created = uploads.upload_items(session=session, project=project, uploads=files_read, split=split, user=user)
    return UploadRead(items=[ItemRead.model_validate(i) for i in created])


@router.get("/export", tags=["export"], response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "the export as a zip"}})
def export_labels(
    project: ApiProject, user: ApiUser, session: SessionDep,
    format: Annotated[str, Query(description="coco, png or labelstudio")],
    version: Annotated[str, Query(description="latest (reviewed, adjudicated: not yet)")] = "latest",
    split: Annotated[str, Query(description="pool, validation or all")] = "all",
    machine_labels: Annotated[bool, Query(description="include machine labels (none exist yet)")] = False,
) -> Response:
    """A zip of the export (app/flows/export.py says what each format holds)."""
    require_role(user, Role.lead)
    data = export.export_zip(session=session, project=project, fmt=format, version=version, split=split,
                             include_machine=machine_labels)
    name = f"labelwise-project{project.id}-{format}.zip"
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _images(files: list[UploadFile]) -> dict[str, bytes]:
    """Uploaded images as a bundle, named by the last component of each file name; each read bounded."""
    limit = get_settings().max_upload_bytes
    return {check_path(f"images/{posixpath.basename((f.filename or str(n)).replace(chr(92), '/'))}"):
            imaging.read_bounded(f.file, limit=limit, what=f"file {f.filename!r}") for n, f in enumerate(files)}


def _annotation_file(upload: UploadFile) -> tuple[str, bytes]:
    return "annotations", imaging.read_bounded(upload.file, limit=get_settings().max_upload_bytes,
                                               what="annotation file")


def _import(session: SessionDep, project: ApiProject, user: ApiUser, bundle: dict[str, bytes], split: Split,
            annotations: tuple[str, bytes] | None = None, expect: str | None = None) -> ImportRead:
    require_role(user, Role.lead)
    done = imports.import_bundle(session=session, project=project, bundle=bundle, split=split, user=user,
                                 annotations=annotations, expect=expect)
    return ImportRead(kind=done.kind, items=[ItemRead.model_validate(i) for i in done.items],
                      annotations=done.annotations)


@router.post("/import/zip", status_code=201, tags=["items"], openapi_extra=limits.UPLOAD)
def import_zip(project: ApiProject, user: ApiUser, session: SessionDep,
               file: Annotated[UploadFile, File(description="zip: images, with masks/ or one COCO or Label "
                                                            "Studio .json")],
               split: Annotated[Split, Form()] = Split.pool) -> ImportRead:
    """All or nothing: a non-image, a path outside the archive or a bad annotation refuses the whole zip."""
    require_role(user, Role.lead)
    archive = imaging.read_bounded(file.file, limit=get_settings().max_upload_request_bytes, what="zip file")
    return _import(session, project, user, read_zip(archive), split)


@router.post("/import/coco", status_code=201, tags=["items"], openapi_extra=limits.UPLOAD)
def import_coco(project: ApiProject, user: ApiUser, session: SessionDep,
                annotations: Annotated[UploadFile, File(description="COCO JSON (RLE or polygons)")],
                files: Annotated[list[UploadFile], File(description="the images it lists")],
                split: Annotated[Split, Form()] = Split.pool) -> ImportRead:
    require_role(user, Role.lead)
    bundle = _images(files)
    return _import(session, project, user, bundle, split, _annotation_file(annotations), "coco")


@router.post("/import/labelstudio", status_code=201, tags=["items"], openapi_extra=limits.UPLOAD)
def import_labelstudio(project: ApiProject, user: ApiUser, session: SessionDep,
                       annotations: Annotated[UploadFile, File(description="Label Studio JSON export")],
                       files: Annotated[list[UploadFile], File(description="the tasks' images")],
                       split: Annotated[Split, Form()] = Split.pool) -> ImportRead:
    require_role(user, Role.lead)
    bundle = _images(files)
    return _import(session, project, user, bundle, split, _annotation_file(annotations), "labelstudio")


@router.post("/autolabel/apply", tags=["machine labels"])
def apply_machine_labels(project: ApiProject, user: ApiUser, session: SessionDep) -> AppliedRead:
    """Machine labels for the open tasks above the lead's bar, under the version the queue is ranked by."""
    require_role(user, Role.lead)
    applied = autolabel.apply_machine_labels(session=session, project=project, user=user)
    return AppliedRead(machine_labels=applied.machine_labels, audits=applied.audits,
                       model_version_id=applied.model_version_id)
