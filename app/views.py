"""All HTML routers, gathered for create_app()."""

from fastapi import APIRouter

from app.auth.views import router as auth_views
from app.dashboards.labeling import router as labeling_views
from app.dashboards.machine_labels import router as machine_label_views
from app.dashboards.overview import router as overview_views
from app.projects.views import router as project_views
from app.queue.views import router as queue_views

router = APIRouter()
for _r in (auth_views, project_views, overview_views, queue_views, labeling_views, machine_label_views):
    router.include_router(_r)
