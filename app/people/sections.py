"""The per-annotator page's quality sections: gold score, agreement, review outcomes, quality score. Each is
a title, the words shown while there is no data, and a loader (app/people/quality_sections.py reads the
gold, agreement and review tables); another domain may add a section, or replace one, with `register`,
and the page and the API show what its loader returns.

A loader gets the database session, the annotator and the ids of the projects the viewer may see, and
returns None (no data yet) or facts: label -> value, in the order they are shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.auth.models import User
from app.people import quality_sections

Facts = dict[str, Any]
Loader = Callable[[Session, User, list[int]], Facts | None]


def no_data_yet(session: Session, annotator: User, project_ids: list[int]) -> Facts | None:
    return None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    empty: str
    load: Loader = no_data_yet


SECTIONS: list[Section] = [
    Section("gold", "Gold score", "No gold tasks yet.", quality_sections.gold),
    Section("agreement", "Agreement", "No tasks labeled by this annotator and another yet.",
            quality_sections.agreement),
    Section("review", "Review outcomes", "No reviews yet.", quality_sections.review),
    Section("quality", "Quality score", "No quality score yet: it needs gold answers or agreement.",
            quality_sections.quality_score),
]


def register(section: Section) -> None:
    """Add a section, or replace the one with the same key (keeping its place)."""
    for i, existing in enumerate(SECTIONS):
        if existing.key == section.key:
            SECTIONS[i] = section
            return
    SECTIONS.append(section)


def load_all(*, session: Session, annotator: User, project_ids: list[int]) -> list[tuple[Section, Facts | None]]:
    return [(s, s.load(session, annotator, project_ids)) for s in SECTIONS]
