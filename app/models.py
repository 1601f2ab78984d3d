"""Imports every domain's models so the metadata (Alembic, tests) sees all tables."""

from app.alerts.models import AlertSettings, DeliveryStatus, DriftCheck, SlaBreach, WebhookAttempt, WebhookDelivery
from app.annotations.models import Annotation, AnnotationStatus
from app.audit.models import AuditLog
from app.auth.models import LoginFailure, Role, User, UserSession
from app.dashboards.models import LabelPick
from app.db import Base
from app.items.models import Item, Split
from app.jobs.models import JobRun, JobStatus
from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
from app.projects.models import (
    Guideline,
    GuidelineConfirmation,
    GuidelineExample,
    Membership,
    Project,
    ProjectClass,
)
from app.queue.models import Draft, Flag, Lease, Skip, Task, TaskStatus

__all__ = [
    "Annotation", "AnnotationStatus", "AuditLog", "Base", "Draft", "Flag", "Guideline", "Item", "JobRun", "JobStatus",
    "Lease", "LoginFailure", "Membership", "ModelStatus", "ModelVersion", "Project", "ProjectClass", "Role", "Score",
    "ScoringRun", "ScoringRunStatus", "Skip", "Split", "Task", "TaskStatus", "User", "UserSession",
    # the lead's desk
    "AlertSettings", "DeliveryStatus", "DriftCheck", "GuidelineConfirmation", "GuidelineExample", "LabelPick",
    "SlaBreach",
    "WebhookAttempt", "WebhookDelivery",
]
