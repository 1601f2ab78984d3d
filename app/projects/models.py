from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class Project(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Retrain after this many new submitted labels since the last training started.
    retrain_every: Mapped[int] = mapped_column(default=10)
    # Labels the project may spend in all; None = no budget set.
    label_budget: Mapped[int | None]
    # Sampling policy: how the queue is ranked (see app.learning.acquisition.STRATEGIES), the share of
    # each ranking picked at random to keep an unbiased view, and the task unit (None = whole images,
    # else square tiles of this many pixels).
    strategy: Mapped[str] = mapped_column(String(32), default="hybrid", server_default="hybrid")
    steered_share: Mapped[float] = mapped_column(Float, default=0.1, server_default="0.1")
    task_tile: Mapped[int | None]
    # Quality control (app/review): the share of submitted labels sampled for review, and the rate at
    # which gold tasks are mixed into each annotator's queue; both 0..1.
    review_share: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    gold_rate: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # The share of the project's images held out as the validation split (drawn at random).
    validation_share: Mapped[float] = mapped_column(Float, default=0.1, server_default="0.1")
    # Archived projects leave the annotators' lists and hand out no tasks; nothing is deleted.
    archived_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    classes: Mapped[list[ProjectClass]] = relationship(
        order_by="ProjectClass.index", cascade="all, delete-orphan", lazy="selectin"
    )


class ProjectClass(Base):
    """A label class; `index` is the pixel value used for it in masks."""

    __tablename__ = "project_class"
    __table_args__ = (
        UniqueConstraint("project_id", "index", name="uq_project_class_project_id_index"),
        UniqueConstraint("project_id", "name", name="uq_project_class_project_id_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    index: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))
    color: Mapped[str] = mapped_column(String(7))  # "#rrggbb"


class ProjectRole(enum.StrEnum):
    """What a member may do in one project (the global role is what they may do anywhere)."""

    annotator = "annotator"
    reviewer = "reviewer"
    lead = "lead"


PROJECT_ROLE_RANK = {ProjectRole.annotator: 0, ProjectRole.reviewer: 1, ProjectRole.lead: 2}


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("project_id", "user_id", name="uq_membership_project_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[ProjectRole] = mapped_column(
        Enum(ProjectRole, name="project_role", native_enum=False, length=16), default=ProjectRole.annotator,
        server_default="annotator")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Guideline(Base):
    """One version of a project's labeling guidelines (Markdown, rendered escaped); the newest is current.
    Versions are added, never edited: who changed what, and when, stays readable."""

    __tablename__ = "guideline"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_guideline_project_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # The flag whose answer this version added (promoted from the escalation queue), if any; a plain
    # id, not a foreign key: projects do not depend on the queue.
    flag_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SamplingPolicy(Base):
    """One version of a project's sampling policy: how the queue is ranked and when the model retrains.
    Versions are added, never edited (who changed what, when and why stays readable); the newest is
    current, and its values are mirrored on the project row, which the queue and uploads read."""

    __tablename__ = "sampling_policy"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_sampling_policy_project_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    strategy: Mapped[str] = mapped_column(String(32))
    # The hybrid strategy's weights (app.learning.acquisition.HybridStrategy); other strategies ignore them.
    weight_uncertainty: Mapped[float] = mapped_column(Float)
    weight_diversity: Mapped[float] = mapped_column(Float)
    weight_class_boost: Mapped[float] = mapped_column(Float)
    steered_share: Mapped[float] = mapped_column(Float)
    task_tile: Mapped[int | None]  # None = whole images
    # "labels" (every retrain_every new labels), "schedule" (every retrain_hours), or "both".
    retrain_trigger: Mapped[str] = mapped_column(String(16))
    retrain_every: Mapped[int]
    retrain_hours: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GuidelineConfirmation(Base):
    """An annotator read and confirmed a version of the guidelines (asked before their next task)."""

    __tablename__ = "guideline_confirmation"
    __table_args__ = (UniqueConstraint("project_id", "user_id", "version",
                                       name="uq_guideline_confirmation_project_id_user_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GuidelineExample(Base):
    """An example image of one guideline version (a new version carries the examples over)."""

    __tablename__ = "guideline_example"

    id: Mapped[int] = mapped_column(primary_key=True)
    guideline_id: Mapped[int] = mapped_column(ForeignKey("guideline.id", ondelete="CASCADE"), index=True)
    storage_path: Mapped[str] = mapped_column(String(500))
    caption: Mapped[str] = mapped_column(String(500), default="")
    width: Mapped[int]
    height: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
