from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app.deps import ApiProject, SessionDep
from app.errors import NotFound
from app.modeling import export, promotion, service
from app.modeling.models import ModelStatus, ModelVersion
from app.modeling.schemas import ModelVersionPage, ModelVersionRead
from app.pagination import PageQuery, page

router = APIRouter(prefix="/api/v1/projects/{project_id}/models", tags=["models"])


@router.get("")
def list_models(project: ApiProject, session: SessionDep, paging: PageQuery, response: Response) -> ModelVersionPage:
    offset, limit = paging.fetch()
    rows = service.list_versions(session=session, project_id=project.id, offset=offset, limit=limit)
    live = promotion.live_version(session=session, project_id=project.id)
    live_id = live.id if live is not None else None

    def read(mv: ModelVersion) -> ModelVersionRead:
        return ModelVersionRead.model_validate(mv).model_copy(update={"state": promotion.state(mv, live_id)})

    return page(ModelVersionPage, rows, paging, response, read)


@router.get("/{model_version_id}/torchscript", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "torch.jit.load(file)(uint8 image [H,W,3]) -> (class ids, probs)"}})
async def torchscript(model_version_id: int, project: ApiProject, session: SessionDep) -> Response:
    """A ready version as TorchScript, for your own pipelines: it reproduces the product's suggested mask."""
    mv = service.get_version(session=session, project_id=project.id, model_version_id=model_version_id)
    if mv is None or mv.status != ModelStatus.ready:
        raise NotFound("no ready model version with that id in this project")
    data = await run_in_threadpool(export.torchscript, mv, project)
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{export.file_name(project, mv)}"'})
