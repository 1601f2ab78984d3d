"""What an import brings, from a bundle (a zip's or a folder's files): a COCO file, a Label Studio
JSON export, or plain images with optional `masks/<stem>.png` (pixel = class id, 255 = unlabeled).

Every image file the bundle has is imported; a COCO or Label Studio file's images are looked up by
their file name (the last path component). A file that is none of these is refused, naming it."""

from __future__ import annotations

import json
import posixpath

from app.formats import Bundle, ClassDef, FormatError, ImportEntry, ParsedImport, coco, labelstudio

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif")
MASK_FOLDERS = ("masks",)


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def _stem(name: str) -> str:
    return posixpath.splitext(posixpath.basename(name))[0]


def load_json(data: bytes, what: str) -> object:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{what} is not valid JSON ({exc})") from None


def parse(bundle: Bundle, classes: list[ClassDef], annotations: tuple[str, bytes] | None = None) -> ParsedImport:
    """`annotations`: a COCO or Label Studio file given apart from the images (the CLI's --coco,
    --labelstudio, or a .json upload). Otherwise a single .json at the bundle's top is used."""
    jsons = [n for n in bundle if n.lower().endswith(".json") and n != "classes.json"]
    if annotations is None and jsons:
        if len(jsons) > 1:
            raise FormatError(f"the archive has several JSON files ({', '.join(sorted(jsons)[:4])}); keep one")
        annotations = (jsons[0], bundle[jsons[0]])
    # Our own PNG export's colour previews and Label Studio's labeling config are not images to import.
    others = [n for n in bundle if n not in jsons and n != "classes.json" and not n.lower().endswith(".xml")
              and n.split("/")[0] != "previews"]
    if annotations is not None:
        return _annotated(bundle, others, classes, annotations)
    return _plain(bundle, others, classes)


def _plain(bundle: Bundle, names: list[str], classes: list[ClassDef]) -> ParsedImport:
    masks = {_stem(n): n for n in names if n.split("/")[0] in MASK_FOLDERS or "/masks/" in n}
    images = sorted(n for n in names if n not in masks.values())
    bad = [n for n in images if not _is_image(n)]
    if bad:
        raise FormatError(f"{bad[0]!r} is not an image (accepted: {', '.join(IMAGE_SUFFIXES)})")
    if not images:
        raise FormatError("no image to import")
    stems = {_stem(n) for n in images}
    orphan = sorted(set(masks) - stems)
    if orphan:
        raise FormatError(f"mask {masks[orphan[0]]!r} has no image of the same name")
    parsed = ParsedImport(kind="images+masks" if masks else "images")
    for name in images:
        entry = ImportEntry(name=posixpath.basename(name), data=bundle[name])
        if _stem(name) in masks:
            entry.mask_png = bundle[masks[_stem(name)]]
            entry.mask_name = masks[_stem(name)]
        parsed.entries.append(entry)
    return parsed


def _annotated(bundle: Bundle, names: list[str], classes: list[ClassDef],
               annotations: tuple[str, bytes]) -> ParsedImport:
    what, data = annotations
    doc = load_json(data, what)
    if coco.looks_like(doc):
        kind = "coco"
        read: dict = coco.read(doc, classes)  # type: ignore[type-arg]
    elif labelstudio.looks_like(doc):
        kind = "labelstudio"
        read = labelstudio.read(doc, classes)
    else:
        raise FormatError(f"{what} is neither a COCO file nor a Label Studio JSON export")
    by_base: dict[str, str] = {}
    for n in names:
        if not _is_image(n):
            raise FormatError(f"{n!r} is not an image (accepted: {', '.join(IMAGE_SUFFIXES)})")
        base = posixpath.basename(n)
        if base in by_base:
            raise FormatError(f"two images are named {base!r}")
        by_base[base] = n
    listed = {posixpath.basename(k) for k in read}
    missing = sorted(listed - by_base.keys())
    if missing:
        raise FormatError(f"{what} lists {missing[0]!r}, which is not among the images"
                          + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    unlisted = sorted(by_base.keys() - listed)
    if unlisted:
        raise FormatError(f"image {unlisted[0]!r} is not listed in {what}")
    parsed = ParsedImport(kind=kind)
    for key, (size, mask) in read.items():
        base = posixpath.basename(key)
        parsed.entries.append(ImportEntry(name=base, data=bundle[by_base[base]], mask=mask, mask_size=size))
    return parsed
