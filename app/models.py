"""Imports every domain's models so the metadata (Alembic, tests) sees all tables."""

from app.agreement.models import Adjudication, PairAgreement, TaskAgreement
from app.annotations.models import Annotation, AnnotationStatus
from app.audit.models import AuditLog
from app.auth.models import LoginFailure, Role, User, UserSession
from app.budgets.models import Budget
from app.db import Base
from app.items.models import Item, Split
from app.jobs.models import JobRun, JobStatus
from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
from app.projects.models import Guideline, Membership, Project, ProjectClass, ProjectRole
from app.quality.models import GoldAnswer, GoldTask, QualityScore, TaskReturn
from app.queue.models import Draft, Flag, Lease, Skip, Task, TaskStatus
from app.queue.overlap_models import OverlapPolicy, OverlapTask, TaskCopy
from app.review.models import ErrorType, Review, ReviewStatus

__all__ = [
    "Annotation", "AnnotationStatus", "AuditLog", "Base", "Draft", "Flag", "Guideline", "Item", "JobRun", "JobStatus",
    "Lease", "LoginFailure", "Membership", "ModelStatus", "ModelVersion", "Project", "ProjectClass", "Role", "Score",
    "ScoringRun", "ScoringRunStatus", "Skip", "Split", "Task", "TaskStatus", "User", "UserSession",
    # overlap, agreement and adjudication
    "Adjudication", "OverlapPolicy", "OverlapTask", "PairAgreement", "TaskAgreement", "TaskCopy",
    "ErrorType", "GoldAnswer", "GoldTask", "QualityScore", "Review", "ReviewStatus", "TaskReturn",
    # the lead's desk: budgets and project roles
    "Budget", "ProjectRole",
]
