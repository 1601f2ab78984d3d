"""All HTML routers, gathered for create_app()."""

from fastapi import APIRouter

from app.annotations.views import router as labeling_views
from app.auth.views import router as auth_views
from app.projects.views import router as project_views

router = APIRouter()
for _r in (auth_views, project_views, labeling_views):
    router.include_router(_r)
