from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app import storage
from app.deps import ApiProject, SessionDep
from app.errors import NotFound
from app.items import service
from app.items.schemas import ItemPage, ItemRead
from app.pagination import PageQuery, page
from app.security import csrf_protect

# Uploading items crosses domains (items, queue): its route is in app/flows.
router = APIRouter(prefix="/api/v1/projects/{project_id}/items", tags=["items"],
                   dependencies=[Depends(csrf_protect)])

PNG_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}


@router.get("")
def list_items(project: ApiProject, session: SessionDep, paging: PageQuery, response: Response) -> ItemPage:
    offset, limit = paging.fetch()
    rows = service.list_items(session=session, project_id=project.id, offset=offset, limit=limit)
    return page(ItemPage, rows, paging, response, ItemRead.model_validate)


@router.get("/{item_id}/image")
def item_image(item_id: int, project: ApiProject, session: SessionDep) -> Response:
    item = service.get(session=session, project=project, item_id=item_id)
    if item is None:
        raise NotFound("item not found")
    return Response(storage.read(item.storage_path), media_type="image/png", headers=PNG_HEADERS)
