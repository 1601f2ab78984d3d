"""Export a project's labels: COCO, PNG masks or Label Studio JSON (app/formats writes them).

Which labels: `version` "latest" is each task's newest submitted annotation (annotations are versioned;
older versions are kept but not exported). "reviewed" and "adjudicated" name review steps Labelwise does
not have yet and are refused with a message saying so. `split`: pool, validation or all.
`include_machine`: machine labels (the model's suggestions accepted without review) do not exist as
labels yet, so the flag changes nothing today; when they do, they will be exported marked as such
(COCO `labelwise_machine`, Label Studio result `origin: prediction`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from app.annotations import service as annotation_service
from app.errors import DomainError
from app.formats import Bundle, ClassDef, LabeledImage, coco, labelstudio, pngmasks, safe_stem, write_zip
from app.items.models import Split
from app.projects.models import Project
from app.storage import read

FORMATS: dict[str, Callable[[list[ClassDef], list[LabeledImage]], Bundle]] = {
    "coco": coco.write, "png": pngmasks.write, "labelstudio": labelstudio.write,
}
VERSIONS = ("latest",)
PLANNED_VERSIONS = ("reviewed", "adjudicated")
SPLITS = ("pool", "validation", "all")
Progress = Callable[[int, int], None]


class ExportError(DomainError):
    """Bad export options or nothing to export (422)."""


def check_options(*, fmt: str, version: str = "latest", split: str = "all") -> None:
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if version in PLANNED_VERSIONS:
        raise ExportError(f"annotation version {version!r} does not exist yet (there is no review step); "
                          f"what exists: {', '.join(VERSIONS)} (each task's newest submitted annotation)")
    if version not in VERSIONS:
        raise ExportError(f"unknown annotation version {version!r}; use: {', '.join(VERSIONS)}")
    if split not in SPLITS:
        raise ExportError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")


def classes_of(project: Project) -> list[ClassDef]:
    return [ClassDef(index=c.index, name=c.name, color=c.color) for c in project.classes]


def labeled_images(*, session: Session, project: Project, version: str = "latest", split: str = "all",
                   include_machine: bool = False, progress: Progress | None = None) -> list[LabeledImage]:
    """The project's labeled items with their merged masks; raises ExportError when there is none."""
    check_options(fmt="coco", version=version, split=split)
    splits = tuple(Split) if split == "all" else (Split(split),)
    rows = annotation_service.submitted_by_item(session=session, project_id=project.id, splits=splits)
    if not rows:
        where = "" if split == "all" else f" in the {split} split"
        raise ExportError(f"project {project.name!r} has no submitted annotations{where}: nothing to export")
    out = []
    for n, (item, versions) in enumerate(rows, start=1):
        out.append(LabeledImage(
            file_name=f"images/{safe_stem(item.id, item.original_name)}.png", width=item.width,
            height=item.height, image_png=read(item.storage_path),
            mask=annotation_service.merged_mask(item, versions), split=item.split.value, item_id=item.id,
        ))
        if progress:
            progress(n, len(rows))
    return out


def export_project(*, session: Session, project: Project, fmt: str, version: str = "latest", split: str = "all",
                   include_machine: bool = False, progress: Progress | None = None) -> Bundle:
    """The export's files (path -> bytes). Reads only: nothing is written to the database."""
    check_options(fmt=fmt, version=version, split=split)
    images = labeled_images(session=session, project=project, version=version, split=split,
                            include_machine=include_machine, progress=progress)
    return FORMATS[fmt](classes_of(project), images)


def export_zip(**kwargs: object) -> bytes:
    return write_zip(export_project(**kwargs))  # type: ignore[arg-type]
