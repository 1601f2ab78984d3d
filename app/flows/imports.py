"""Import images, with their starting annotations, from a folder, a zip, a COCO file or a Label Studio
JSON export: all or nothing per batch (one refused file, mask or annotation stores none).

Images go through flows.uploads.upload_items (decoded, EXIF orientation applied, re-encoded; duplicates
found by pixel checksum, within the batch or against the project). A mask becomes version 1 of each
task of its (new) item whose region it labels, authored by `user`, or by the project's creator when no
user is given. An import never touches an existing item: an image the project already has refuses the
batch, so no existing label is overwritten or given a new version by an import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import imaging
from app.annotations import service as annotation_service
from app.auth.models import User
from app.config import get_settings
from app.errors import DomainError
from app.flows import uploads
from app.flows.export import classes_of
from app.formats import Bundle, FormatError, ImportEntry, read_folder, read_zip, reader
from app.items import service as item_service
from app.items.models import Item, Split
from app.projects.models import Project
from app.queue import service as queue_service

Progress = Callable[..., None]  # (done, total) and, optionally, what it is doing


@dataclass
class ImportResult:
    kind: str
    items: list[Item] = field(default_factory=list)
    annotations: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why), with skip_duplicates


def bundle_from_path(path: Path) -> Bundle:
    """A folder, a zip file, or a single image file, as a bundle."""
    if path.is_dir():
        return read_folder(path)
    if not path.is_file():
        raise FormatError(f"{path} does not exist")
    data = path.read_bytes()
    if path.suffix.lower() == ".zip":
        return read_zip(data)
    return {path.name: data}


def import_bundle(*, session: Session, project: Project, bundle: Bundle, split: Split, user: User | None,
                  annotations: tuple[str, bytes] | None = None, progress: Progress | None = None,
                  expect: str | None = None, skip_duplicates: bool = False) -> ImportResult:
    """Parse, then store everything in one transaction (committed by upload_items). `expect`: "coco" or
    "labelstudio" refuses a bundle of another kind. `skip_duplicates`: an image the project has, or that
    came earlier in the batch, is left out and listed in `skipped` instead of refusing the batch."""
    parsed = reader.parse(bundle, classes_of(project), annotations)
    if expect is not None and parsed.kind != expect:
        raise FormatError(f"expected a {expect} import, got {parsed.kind}")
    entries = parsed.entries
    skipped: list[tuple[str, str]] = []
    if skip_duplicates:
        entries, skipped = _without_duplicates(session, project, entries, progress)
    author_id = user.id if user else project.created_by_id
    author = session.get(User, author_id) if author_id is not None else None
    if author is None and any(e.mask is not None or e.mask_png is not None for e in entries):
        raise DomainError("the import has masks but no author: give a user (the project has no creator)")
    result = ImportResult(kind=parsed.kind, skipped=skipped)

    def files():  # type: ignore[no-untyped-def]
        for n, entry in enumerate(entries, start=1):
            yield entry.name, entry.data
            if progress:
                progress(n, len(entries), "importing")

    def add_annotations(n: int, item: Item) -> None:
        mask = _mask_for(entries[n], item, len(project.classes))
        if mask is None:
            return
        assert author is not None
        for task in queue_service.tasks_of_item(session=session, item_id=item.id):
            region = mask[task.y:task.y + task.height, task.x:task.x + task.width]
            if (region != imaging.IGNORE).any():
                annotation_service.submit(session=session, project=project, task=task, user=author, mask=mask)
                result.annotations += 1

    result.items = uploads.upload_items(session=session, project=project, uploads=files(), split=split,
                                        user=user, after_each=add_annotations)
    return result


def _without_duplicates(session: Session, project: Project, entries: list[ImportEntry],
                        progress: Progress | None) -> tuple[list[ImportEntry], list[tuple[str, str]]]:
    """The entries whose pixels are new to the project and to the batch, and why each other one is left
    out. Checksums as items have them (decoded, EXIF orientation applied); a file that does not decode is
    kept, for the import to refuse with its own message."""
    max_pixels = get_settings().max_image_pixels
    sums: list[str | None] = []
    for n, entry in enumerate(entries, start=1):
        try:
            sums.append(item_service.pixel_checksum(imaging.decode_image(entry.data, max_pixels=max_pixels)))
        except imaging.InvalidImage:
            sums.append(None)
        if progress:
            progress(n, len(entries), "checking for duplicates")
    known = {c: (i, name) for c, i, name in session.execute(
        select(Item.checksum, Item.id, Item.original_name).where(
            Item.project_id == project.id, Item.checksum.in_([s for s in sums if s])))} if any(sums) else {}
    kept: list[ImportEntry] = []
    skipped: list[tuple[str, str]] = []
    first_of: dict[str, str] = {}
    for entry, checksum in zip(entries, sums, strict=True):
        if checksum is not None and checksum in known:
            item_id, name = known[checksum]
            skipped.append((entry.name, f"the same image as item {item_id} ({name!r}), already in the project"))
        elif checksum is not None and checksum in first_of:
            skipped.append((entry.name, f"the same image as {first_of[checksum]!r}, earlier in this import"))
        else:
            if checksum is not None:
                first_of[checksum] = entry.name
            kept.append(entry)
    return kept, skipped


def _mask_for(entry: ImportEntry, item: Item, num_classes: int) -> np.ndarray | None:
    if entry.mask_png is not None:
        try:
            return imaging.decode_mask(entry.mask_png, width=item.width, height=item.height, num_classes=num_classes)
        except imaging.InvalidImage as exc:
            raise FormatError(f"{entry.mask_name}: {exc}") from None
    if entry.mask is None:
        return None
    if entry.mask_size is not None and entry.mask_size != (item.width, item.height):
        w, h = entry.mask_size
        raise FormatError(f"{entry.name}: the annotations are for a {w}x{h} image but the image is "
                          f"{item.width}x{item.height}")
    return entry.mask
