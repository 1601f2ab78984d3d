"""All HTML routers, gathered for create_app()."""

from fastapi import APIRouter

from app.agreement.views import router as agreement_views
from app.auth.views import router as auth_views
from app.budgets.views import router as budget_views
from app.dashboards.desk import router as desk_views
from app.dashboards.jobs import router as jobs_views
from app.dashboards.labeling import router as labeling_views
from app.dashboards.machine_labels import router as machine_label_views
from app.dashboards.model_versions import router as model_views
from app.dashboards.overview import router as overview_views
from app.dashboards.policy import router as policy_views
from app.dashboards.simulation import router as simulation_views
from app.dashboards.validation_split import router as validation_views
from app.people.audit_views import router as audit_views
from app.people.views import router as people_views
from app.projects.guideline_views import router as guideline_views
from app.projects.views import router as project_views
from app.queue.views import router as queue_views
from app.review.views import router as review_views

router = APIRouter()
for _r in (auth_views, project_views, overview_views, queue_views, labeling_views, agreement_views, review_views,
           people_views, audit_views, budget_views, validation_views, policy_views, model_views, guideline_views,
           desk_views, jobs_views, machine_label_views, simulation_views):
    router.include_router(_r)
