"""A project's labeling guidelines: versioned Markdown text (the newest version is current), and a
small, safe renderer for it (everything escaped; paragraphs, "- " lists and **bold** only)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.errors import DomainError
from app.projects.models import Guideline

MAX_CHARS = 50_000


def current(*, session: Session, project_id: int) -> Guideline | None:
    return session.scalar(select(Guideline).where(Guideline.project_id == project_id)
                          .order_by(Guideline.version.desc()).limit(1))


def promoted_flag_ids(*, session: Session, project_id: int) -> set[int]:
    """Flags whose answers are in the guidelines already."""
    return set(session.scalars(select(Guideline.flag_id).where(Guideline.project_id == project_id,
                                                               Guideline.flag_id.is_not(None))))


def save(*, session: Session, project_id: int, text: str, author_id: int | None,
         flag_id: int | None = None) -> Guideline:
    """A new version of the guidelines with this text."""
    text = text.strip()
    if len(text) > MAX_CHARS:
        raise DomainError(f"the guidelines are limited to {MAX_CHARS} characters")
    version = (session.scalar(select(func.max(Guideline.version)).where(Guideline.project_id == project_id)) or 0) + 1
    row = Guideline(project_id=project_id, version=version, text=text, author_id=author_id, flag_id=flag_id)
    session.add(row)
    session.flush()
    audit.record(session=session, action="guideline.save", entity="guideline", entity_id=row.id, user_id=author_id,
                 project_id=project_id, detail={"version": version, "flag_id": flag_id})
    return row


def add_answer(*, session: Session, project_id: int, question: str, answer: str, author_id: int | None,
               flag_id: int) -> Guideline:
    """Append a lead's answer to a flagged question as a list entry of a new version."""
    if flag_id in promoted_flag_ids(session=session, project_id=project_id):
        raise DomainError("this answer is in the guidelines already")
    now = current(session=session, project_id=project_id)
    entry = f"- {' '.join(answer.split())} (asked: \u201c{' '.join(question.split())}\u201d)"
    text = f"{now.text.rstrip()}\n{entry}" if now and now.text.strip() else f"Answers to flagged questions:\n\n{entry}"
    return save(session=session, project_id=project_id, text=text, author_id=author_id, flag_id=flag_id)


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(line: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", str(escape(line)))


def render(text: str) -> Markup:
    """Markdown's safe little subset as HTML: every character escaped first, then blank-line paragraphs,
    "- " list items and **bold**."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        items = [ln[2:] for ln in lines if ln.startswith("- ")]
        if lines and len(items) == len(lines):
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        else:
            paragraph, bullets = [ln for ln in lines if not ln.startswith("- ")], items
            if paragraph:
                out.append("<p>" + " ".join(_inline(ln) for ln in paragraph) + "</p>")
            if bullets:
                out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in bullets) + "</ul>")
    return Markup("".join(out))
