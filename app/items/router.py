from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from app import imaging, storage
from app.auth.models import Role
from app.deps import ApiProject, ApiUser, SessionDep, require_role
from app.items import service
from app.items.models import Item, Split
from app.security import csrf_protect

router = APIRouter(prefix="/api/v1/projects/{project_id}/items", tags=["items"],
                   dependencies=[Depends(csrf_protect)])

PNG_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}


def item_out(item: Item) -> dict:
    return {"id": item.id, "name": item.original_name, "width": item.width, "height": item.height,
            "checksum": item.checksum, "split": item.split.value}


@router.post("", status_code=201)
def upload_items(
    project: ApiProject, user: ApiUser, session: SessionDep,
    files: Annotated[list[UploadFile], File(description="images")],
    split: Annotated[Split, Form()] = Split.pool,
) -> dict:
    """All or nothing: if any file is refused, none is stored. Plain `def` (thread pool): decoding is
    CPU work and the project's upload lock may mean a wait."""
    require_role(user, Role.lead)
    uploads = ((upload.filename or "upload", upload.file.read()) for upload in files)  # read one by one
    try:
        created = service.add_uploads(session=session, project=project, uploads=uploads, split=split, user=user)
    except imaging.InvalidImage as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except service.DuplicateItem as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return {"items": [item_out(i) for i in created]}


@router.get("")
def list_items(project: ApiProject, session: SessionDep) -> list[dict]:
    items = session.scalars(select(Item).where(Item.project_id == project.id).order_by(Item.id))
    return [item_out(i) for i in items]


@router.get("/{item_id}/image")
def item_image(item_id: int, project: ApiProject, session: SessionDep) -> Response:
    item = service.get(session=session, project=project, item_id=item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="item not found")
    return Response(storage.read(item.storage_path), media_type="image/png", headers=PNG_HEADERS)
