"""A project's labeling guidelines: versioned Markdown text (the newest version is current) with example
images, who confirmed which version (an annotator confirms a new one before their next task), and a
small, safe renderer for the text (everything escaped; paragraphs, "- " lists and **bold** only)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import imaging, storage
from app.audit import service as audit
from app.config import get_settings
from app.errors import Conflict, DomainError, NotFound
from app.projects.models import Guideline, GuidelineConfirmation, GuidelineExample

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
    if version > 1:  # examples belong to the guidelines, not to one wording of them: carried over
        for old in examples(session=session, guideline_id=_version_id(session, project_id, version - 1)):
            session.add(GuidelineExample(guideline_id=row.id, storage_path=old.storage_path, caption=old.caption,
                                         width=old.width, height=old.height, created_by_id=old.created_by_id))
    if author_id is not None:  # the author has read what they wrote
        session.add(GuidelineConfirmation(project_id=project_id, user_id=author_id, version=version))
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


def _version_id(session: Session, project_id: int, version: int) -> int | None:
    return session.scalar(select(Guideline.id).where(Guideline.project_id == project_id, Guideline.version == version))


def get_version(*, session: Session, project_id: int, version: int) -> Guideline | None:
    return session.scalar(select(Guideline).where(Guideline.project_id == project_id, Guideline.version == version))


def history(*, session: Session, project_id: int) -> list[Guideline]:
    """Every version, newest first."""
    return list(session.scalars(select(Guideline).where(Guideline.project_id == project_id)
                                .order_by(Guideline.version.desc())))


# --- confirmation: an annotator confirms a new version before their next task ---------------------

class GuidelinesUnconfirmed(Conflict):
    """The queue hands out no task until the user confirmed the current guidelines (409,
    code "confirm_guidelines"); the labeling page shows them with a Confirm button."""

    def __init__(self, version: int):
        super().__init__(f"The guidelines changed: confirm guidelines v{version} first, then ask for the next task.",
                         code="confirm_guidelines")
        self.version = version


def unconfirmed_version(*, session: Session, project_id: int, user_id: int) -> int | None:
    """The current version when `user_id` has not confirmed it; None when confirmed or none exists."""
    now = current(session=session, project_id=project_id)
    if now is None or session.scalar(select(GuidelineConfirmation.id).where(
            GuidelineConfirmation.project_id == project_id, GuidelineConfirmation.user_id == user_id,
            GuidelineConfirmation.version == now.version)) is not None:
        return None
    return now.version


def require_confirmed(*, session: Session, project_id: int, user_id: int) -> None:
    version = unconfirmed_version(session=session, project_id=project_id, user_id=user_id)
    if version is not None:
        raise GuidelinesUnconfirmed(version)


def confirm(*, session: Session, project_id: int, user_id: int, version: int) -> None:
    """Record that the user read `version`; only the current version can be confirmed (409 otherwise,
    so a page left open on an old version cannot confirm a newer one unread). Idempotent."""
    now = current(session=session, project_id=project_id)
    if now is None:
        raise NotFound("this project has no guidelines to confirm")
    if version != now.version:
        raise Conflict(f"version: v{version} is not the current guidelines (v{now.version}); read v{now.version}")
    if unconfirmed_version(session=session, project_id=project_id, user_id=user_id) is None:
        return
    session.add(GuidelineConfirmation(project_id=project_id, user_id=user_id, version=version))
    audit.record(session=session, action="guideline.confirm", entity="guideline", entity_id=now.id, user_id=user_id,
                 project_id=project_id, detail={"version": version})


# --- example images ---------------------------------------------------------------------------------

MAX_EXAMPLES = 24


def examples(*, session: Session, guideline_id: int | None) -> list[GuidelineExample]:
    if guideline_id is None:
        return []
    return list(session.scalars(select(GuidelineExample).where(GuidelineExample.guideline_id == guideline_id)
                                .order_by(GuidelineExample.id)))


def add_example(*, session: Session, guideline: Guideline, data: bytes, caption: str,
                user_id: int | None) -> GuidelineExample:
    """An example image (PNG/JPEG, re-encoded) for this version of the guidelines; the caller commits."""
    caption = " ".join(caption.split())
    if len(caption) > 500:
        raise DomainError("caption: at most 500 characters")
    if len(examples(session=session, guideline_id=guideline.id)) >= MAX_EXAMPLES:
        raise DomainError(f"image: a version holds at most {MAX_EXAMPLES} example images")
    settings = get_settings()
    if len(data) > settings.max_upload_bytes:
        raise imaging.InvalidImage(f"image: the file is larger than {settings.max_upload_bytes} bytes")
    try:
        pixels = imaging.decode_image(data, max_pixels=settings.max_image_pixels)
    except imaging.InvalidImage as exc:
        raise imaging.InvalidImage(f"image: {exc}") from None
    png = imaging.encode_png(pixels)
    row = GuidelineExample(guideline_id=guideline.id, storage_path="", caption=caption, width=int(pixels.shape[1]),
                           height=int(pixels.shape[0]), created_by_id=user_id)
    session.add(row)
    session.flush()
    row.storage_path = f"projects/{guideline.project_id}/guidelines/example-{row.id}.png"
    storage.write_in_transaction(session, row.storage_path, png)
    audit.record(session=session, action="guideline.example.add", entity="guideline", entity_id=guideline.id,
                 user_id=user_id, project_id=guideline.project_id,
                 detail={"version": guideline.version, "example_id": row.id, "caption": caption})
    return row


def get_example(*, session: Session, project_id: int, example_id: int) -> GuidelineExample | None:
    row = session.get(GuidelineExample, example_id)
    if row is None:
        return None
    guide = session.get(Guideline, row.guideline_id)
    return row if guide is not None and guide.project_id == project_id else None


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
