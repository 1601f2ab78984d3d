"""Imports every domain's models so the metadata (Alembic, tests) sees all tables."""

from app.agreement.models import Adjudication, PairAgreement, TaskAgreement
from app.alerts.models import AlertSettings, DeliveryStatus, DriftCheck, SlaBreach, WebhookAttempt, WebhookDelivery
from app.annotations.class_pixels import AnnotationClassPixels
from app.annotations.models import Annotation, AnnotationStatus
from app.audit.models import AuditLog
from app.auth.models import ApiToken, LoginFailure, Role, User, UserSession
from app.autolabel.models import AutoAcceptPolicy, MachineAudit
from app.budgets.models import Budget
from app.dashboards.models import LabelMixPixels, LabelPick
from app.db import Base
from app.items.models import Item, Split
from app.jobs.models import JobRun, JobStatus
from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
from app.modeling.representation_models import ItemEmbedding, Representation, RepresentationStatus
from app.projects.models import (
    Guideline,
    GuidelineConfirmation,
    GuidelineExample,
    Membership,
    Project,
    ProjectClass,
    ProjectRole,
    SamplingPolicy,
)
from app.quality.models import GoldAnswer, GoldTask, QualityScore, TaskReturn
from app.queue.models import Draft, Flag, Lease, Skip, Task, TaskStatus
from app.queue.overlap_models import OverlapPolicy, OverlapTask, TaskCopy
from app.review.models import ErrorType, Review, ReviewStatus

__all__ = [
    "Adjudication", "AlertSettings", "Annotation", "AnnotationClassPixels", "AnnotationStatus", "ApiToken",
    "AuditLog", "AutoAcceptPolicy",
    "Base", "Budget", "DeliveryStatus", "Draft", "DriftCheck", "ErrorType", "Flag", "GoldAnswer", "GoldTask",
    "Guideline", "GuidelineConfirmation", "GuidelineExample", "Item", "JobRun", "JobStatus",
    "LabelMixPixels", "LabelPick", "Lease",
    "LoginFailure", "MachineAudit", "Membership", "ModelStatus", "ModelVersion", "OverlapPolicy", "OverlapTask",
    "PairAgreement", "Project", "ProjectClass", "ProjectRole", "QualityScore", "Review", "ReviewStatus", "Role",
    "SamplingPolicy", "Score", "ScoringRun", "ScoringRunStatus", "Skip", "SlaBreach", "Split", "Task",
    "TaskAgreement", "TaskCopy", "TaskReturn", "TaskStatus", "User", "UserSession", "WebhookAttempt",
    "WebhookDelivery",
]
__all__ += ["ItemEmbedding", "Representation", "RepresentationStatus"]
