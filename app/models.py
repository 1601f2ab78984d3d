"""Imports every domain's models so the metadata (Alembic, tests) sees all tables."""

from app.annotations.models import Annotation, AnnotationStatus, Draft
from app.audit.models import AuditLog
from app.auth.models import Role, User
from app.db import Base
from app.items.models import Item, Split
from app.projects.models import Membership, Project, ProjectClass
from app.queue.models import Flag, Lease, Score, ScoringRun, ScoringRunStatus, Skip, Task, TaskStatus
from app.training.models import ModelStatus, ModelVersion

__all__ = [
    "Annotation", "AnnotationStatus", "AuditLog", "Base", "Draft", "Flag", "Item", "Lease", "Membership",
    "ModelStatus", "ModelVersion", "Project", "ProjectClass", "Role", "Score", "ScoringRun", "ScoringRunStatus",
    "Skip", "Split", "Task", "TaskStatus", "User",
]
