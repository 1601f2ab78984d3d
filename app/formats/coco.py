"""COCO: one RLE annotation per (image, class present), written with pycocotools.

Category ids are class index + 1 (COCO keeps 0 for "none"); categories are matched by name on import.
Unlabeled pixels (255) are in no segmentation. Read back: RLE (compressed or not) and polygons; where
segmentations overlap, the later annotation wins; pixels in none stay unlabeled.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from app.formats import IGNORE, ClassDef, FormatError, LabeledImage, class_by_name

ANNOTATIONS = "annotations.json"


def encode(binary: np.ndarray) -> dict[str, Any]:
    rle = mask_utils.encode(np.asfortranarray(binary.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def to_document(classes: list[ClassDef], images: list[LabeledImage]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "info": {"description": "Labelwise export", "version": "1.0"},
        "licenses": [],
        "categories": [{"id": c.index + 1, "name": c.name, "supercategory": "", "color": c.color} for c in classes],
        "images": [],
        "annotations": [],
    }
    ann_id = 0
    for image_id, img in enumerate(images, start=1):
        doc["images"].append({"id": image_id, "file_name": img.file_name, "width": img.width,
                              "height": img.height, "labelwise_split": img.split,
                              "labelwise_item_id": img.item_id, "labelwise_machine": img.machine})
        for c in classes:
            binary = img.mask == c.index
            if not binary.any():
                continue
            rle = encode(binary)
            ann_id += 1
            doc["annotations"].append({
                "id": ann_id, "image_id": image_id, "category_id": c.index + 1, "segmentation": rle,
                "area": float(mask_utils.area(_bytes_rle(rle))), "bbox": [float(v) for v in mask_utils.toBbox(
                    _bytes_rle(rle))], "iscrowd": 1,
            })
    return doc


def write(classes: list[ClassDef], images: list[LabeledImage]) -> dict[str, bytes]:
    out = {img.file_name: img.image_png for img in images}
    out[ANNOTATIONS] = json.dumps(to_document(classes, images)).encode()
    return out


def _bytes_rle(rle: dict[str, Any]) -> dict[str, Any]:
    return {"size": rle["size"], "counts": rle["counts"].encode("ascii")}


def looks_like(doc: object) -> bool:
    return isinstance(doc, dict) and {"images", "annotations", "categories"} <= doc.keys()


def read(doc: object, classes: list[ClassDef]) -> dict[str, tuple[tuple[int, int], np.ndarray]]:
    """A COCO document -> {file_name: ((width, height), mask)}, for every image it lists."""
    if not looks_like(doc):
        raise FormatError("not a COCO file: it needs 'images', 'annotations' and 'categories'")
    assert isinstance(doc, dict)
    if not all(isinstance(doc[key], list) for key in ("images", "annotations", "categories")):
        raise FormatError("malformed COCO file: 'images', 'annotations' and 'categories' must be lists")
    by_name = class_by_name(classes)
    try:
        categories = {int(c["id"]): str(c["name"]) for c in doc["categories"]}
        images = {int(i["id"]): (str(i["file_name"]), int(i["width"]), int(i["height"])) for i in doc["images"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"malformed COCO file: a category or image lacks {exc}") from None
    unknown = sorted(set(categories.values()) - by_name.keys())
    out: dict[str, tuple[tuple[int, int], np.ndarray]] = {}
    for file_name, w, h in images.values():
        if not (0 < w <= 50_000 and 0 < h <= 50_000):
            raise FormatError(f"malformed COCO file: image {file_name!r} is {w}x{h}")
        if file_name in out:
            raise FormatError(f"malformed COCO file: {file_name!r} is listed twice")
        out[file_name] = ((w, h), np.full((h, w), IGNORE, dtype=np.uint8))
    for n, ann in enumerate(doc["annotations"]):
        try:
            file_name, w, h = images[int(ann["image_id"])]
            name = categories[int(ann["category_id"])]
            segm = ann["segmentation"]
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"malformed COCO file: annotation {n} refers to a missing {exc}") from None
        if name in unknown:
            raise FormatError(f"COCO category {name!r} is not a class of the project "
                              f"({', '.join(sorted(by_name))})")
        binary = _decode(segm, h, w, n)
        out[file_name][1][binary] = by_name[name].index
    return out


def _decode(segm: Any, h: int, w: int, n: int) -> np.ndarray:
    try:
        if isinstance(segm, list):  # polygons
            if not segm or not all(isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0 for p in segm):
                raise ValueError("a polygon needs at least 3 x,y points")
            rle = mask_utils.merge(mask_utils.frPyObjects([[float(v) for v in p] for p in segm], h, w))
        elif isinstance(segm, dict) and isinstance(segm.get("counts"), list):
            if [int(v) for v in segm.get("size", [])] != [h, w] or sum(segm["counts"]) != h * w:
                raise ValueError("its size or counts do not match the image")
            rle = mask_utils.frPyObjects(segm, h, w)
        elif isinstance(segm, dict) and isinstance(segm.get("counts"), str):
            if [int(v) for v in segm.get("size", [])] != [h, w]:
                raise ValueError("its size does not match the image")
            counts = string_counts(segm["counts"])
            if min(counts, default=0) < 0 or sum(counts) != h * w:
                raise ValueError("its counts do not add up to the image")
            rle = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
        else:
            raise ValueError("it is neither polygons nor RLE")
        binary = mask_utils.decode(rle)
    except FormatError:
        raise
    except Exception as exc:  # pycocotools raises bare Exceptions on corrupt counts
        raise FormatError(f"malformed COCO file: annotation {n} has an unreadable segmentation ({exc})") from None
    if binary.shape != (h, w):
        raise FormatError(f"malformed COCO file: annotation {n} decodes to the wrong size")
    return binary.astype(bool)


def string_counts(text: str) -> list[int]:
    """Decode COCO's compressed RLE string (pycocotools' rleFrString) so its run lengths can be checked
    before pycocotools' C decoder, which trusts them, writes a single pixel."""
    counts: list[int] = []
    p = 0
    while p < len(text):
        x, k, more = 0, 0, True
        while more:
            if p >= len(text):
                raise ValueError("the counts string ends inside a number")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise ValueError("the counts string has a character outside COCO's alphabet")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts
