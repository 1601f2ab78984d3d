"""Annotation exchange formats (COCO, PNG masks, Label Studio JSON): writing and reading them, on plain
arrays. Nothing here touches the database; app/flows/export.py and app/flows/imports.py do.

Masks are uint8 [H, W] of class indices with 255 = unlabeled (app.learning.constants.IGNORE_INDEX).
How each format shows unlabeled pixels:
- COCO: in no segmentation (every labeled class, background included, is one RLE annotation per image);
- PNG masks: pixel value 255 (the colour preview shows the plain image there);
- Label Studio: in no brush result (one brush result per class present in the image).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.errors import DomainError
from app.learning.constants import IGNORE_INDEX

IGNORE = IGNORE_INDEX
Bundle = dict[str, bytes]  # relative POSIX path -> file contents
MAX_ENTRIES = 20_000
MAX_TOTAL_BYTES = 4 << 30


class FormatError(DomainError):
    """A file that does not hold what its format says (malformed JSON, unknown class, path tricks)."""


@dataclass(frozen=True)
class ClassDef:
    index: int  # the pixel value in masks
    name: str
    color: str  # "#rrggbb"


@dataclass
class LabeledImage:
    """One exported image: its file name inside the export, PNG bytes, and its merged mask."""

    file_name: str  # e.g. "images/12-chart.png"
    width: int
    height: int
    image_png: bytes
    mask: np.ndarray  # uint8 [H, W], 255 = unlabeled
    split: str = "pool"
    item_id: int = 0
    machine: bool = False  # a machine label (none exist yet; see flows.export)


@dataclass
class ImportEntry:
    """One image to import, with its starting annotation (a mask) when the source had one."""

    name: str
    data: bytes
    mask: np.ndarray | None = None
    mask_size: tuple[int, int] | None = None  # (width, height) the source said the image has
    mask_png: bytes | None = None  # a PNG of class ids (plain images + masks/): decoded by the flow
    mask_name: str = ""


@dataclass
class ParsedImport:
    entries: list[ImportEntry] = field(default_factory=list)
    kind: str = "images"


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(item_id: int, original_name: str) -> str:
    stem = _SAFE.sub("_", Path(original_name).stem).strip("._")[:80] or "image"
    return f"{item_id}-{stem}"


def class_by_name(classes: list[ClassDef]) -> dict[str, ClassDef]:
    return {c.name: c for c in classes}


def hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def check_path(name: str) -> str:
    """A bundle entry name, refused if it could land outside its folder."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or ".." in clean.split("/") or "\x00" in clean:
        raise FormatError(f"refused {name!r}: a path outside the archive")
    return posixpath.normpath(clean)


def read_zip(data: bytes) -> Bundle:
    """A zip archive as a bundle; refuses path tricks, links, too many or too large entries."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FormatError("the file is not a zip archive") from None
    bundle: Bundle = {}
    total = 0
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_ENTRIES:
            raise FormatError(f"the archive has {len(infos)} files; at most {MAX_ENTRIES} are accepted")
        for info in infos:
            name = check_path(info.filename)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise FormatError(f"refused {info.filename!r}: a symbolic link")
            if _ignorable(name):
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise FormatError("the archive unpacks to more than 4 GiB")
            try:
                bundle[name] = archive.read(info)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise FormatError(f"{info.filename!r} cannot be read from the archive ({exc})") from None
    return bundle


def read_folder(root: Path) -> Bundle:
    """Every regular file under root (links are refused: they may point anywhere)."""
    if not root.is_dir():
        raise FormatError(f"{root} is not a folder")
    bundle: Bundle = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            raise FormatError(f"refused {rel!r}: a symbolic link")
        if path.is_file() and not _ignorable(rel):
            bundle[rel] = path.read_bytes()
    if len(bundle) > MAX_ENTRIES:
        raise FormatError(f"the folder has {len(bundle)} files; at most {MAX_ENTRIES} are accepted")
    return bundle


def _ignorable(name: str) -> bool:
    """Archivers' leftovers (macOS resource forks, .DS_Store, Thumbs.db) are not the user's files."""
    parts = name.split("/")
    return parts[0] == "__MACOSX" or parts[-1] in (".DS_Store", "Thumbs.db")


def write_zip(bundle: Bundle) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(bundle):
            archive.writestr(name, bundle[name])
    return buf.getvalue()


def write_folder(bundle: Bundle, root: Path) -> None:
    for name, data in bundle.items():
        path = root / check_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
