"""Label Studio JSON: a list of tasks, each with one annotation whose results are brush masks
(`brushlabels`, Label Studio's own RLE of an RGBA image, alpha 255 = painted), one per class present.

Written: `from_name` "label", `to_name` "image", class names as the brush labels, `data.image` the
image's path inside the export. Unlabeled pixels are in no result. Read back: brush RLE and polygon
results (points in percent of the image), matched to the project's classes by name; where results
overlap, the later one wins. Tasks with several annotations: the last one (Label Studio lists them
oldest first) that was not cancelled.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from app.formats import IGNORE, ClassDef, FormatError, LabeledImage, class_by_name

TASKS = "tasks.json"
_RLE_SIZES = (3, 4, 8, 16)  # bits of a run length, chosen by a 2-bit index (Label Studio's defaults)


# --- Label Studio's brush RLE (label_studio_converter.brush encode_rle / decode_rle) ---------------

def encode_rle(flat: np.ndarray) -> list[int]:
    """uint8 values -> Label Studio's RLE bytes (a 32-bit count, 5-bit word size - 1, four 4-bit run
    length sizes - 1, then runs: '1' + size index + length - 1 + value, or '0' + ... literals)."""
    bits = [f"{len(flat):032b}", f"{8 - 1:05b}", "".join(f"{s - 1:04b}" for s in _RLE_SIZES)]
    if len(flat):
        change = np.flatnonzero(np.diff(flat)) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [len(flat)]))
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            value = f"{int(flat[start]):08b}"
            length = end - start
            while length > 0:
                chunk = min(length, 1 << 16)
                idx = next(i for i, s in enumerate(_RLE_SIZES) if chunk - 1 < (1 << s))
                bits.append(f"1{idx:02b}{chunk - 1:0{_RLE_SIZES[idx]}b}{value}")
                length -= chunk
    text = "".join(bits)
    text += "0" * (-len(text) % 8)
    return [int(text[i:i + 8], 2) for i in range(0, len(text), 8)]


def decode_rle(rle: list[int], limit: int) -> np.ndarray:
    """Label Studio's RLE bytes -> uint8 values; refuses a stream that says more than `limit` values."""
    try:
        bits = "".join(f"{b:08b}" for b in bytes(rle))
    except (TypeError, ValueError):
        raise ValueError("the rle is not a list of bytes") from None
    pos = 0

    def read(n: int) -> int:
        nonlocal pos
        if pos + n > len(bits):
            raise ValueError("the rle ends early")
        pos += n
        return int(bits[pos - n:pos], 2) if n else 0

    num = read(32)
    if num > limit:
        raise ValueError(f"the rle holds {num} values, more than the image's {limit}")
    word = read(5) + 1
    sizes = [read(4) + 1 for _ in range(4)]
    out = np.zeros(num, dtype=np.uint8)
    i = 0
    while i < num:
        repeat = read(1)
        j = min(num, i + 1 + read(sizes[read(2)]))
        if repeat:
            out[i:j] = read(word) & 0xFF
            i = j
        else:
            while i < j:
                out[i] = read(word) & 0xFF
                i += 1
    return out


def mask_to_rle(binary: np.ndarray) -> list[int]:
    return encode_rle(np.repeat(binary.astype(np.uint8).ravel() * 255, 4))


def rle_to_mask(rle: list[int], width: int, height: int) -> np.ndarray:
    flat = decode_rle(rle, width * height * 4)
    if flat.size != width * height * 4:
        raise ValueError(f"the rle holds {flat.size // 4} pixels, the image {width * height}")
    return flat.reshape(height, width, 4)[:, :, 3] > 127


# --- tasks --------------------------------------------------------------------------------------------

def to_tasks(classes: list[ClassDef], images: list[LabeledImage]) -> list[dict[str, Any]]:
    tasks = []
    for img in images:
        results = []
        for c in classes:
            binary = img.mask == c.index
            if not binary.any():
                continue
            results.append({
                "id": f"i{img.item_id}c{c.index}", "type": "brushlabels", "from_name": "label", "to_name": "image",
                "original_width": img.width, "original_height": img.height, "image_rotation": 0,
                "origin": "prediction" if img.machine else "manual",
                "value": {"format": "rle", "rle": mask_to_rle(binary), "brushlabels": [c.name]},
            })
        tasks.append({
            "id": img.item_id, "data": {"image": img.file_name, "split": img.split},
            "annotations": [{"id": img.item_id, "result": results, "was_cancelled": False,
                             "ground_truth": False}],
            "predictions": [],
        })
    return tasks


def labeling_config(classes: list[ClassDef]) -> str:
    """The Label Studio labeling interface that matches the export (for creating the project there)."""
    labels = "".join(f'<Label value="{_xml(c.name)}" background="{c.color}"/>' for c in classes)
    return (f'<View><Image name="image" value="$image"/>'
            f'<BrushLabels name="label" toName="image">{labels}</BrushLabels></View>')


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def write(classes: list[ClassDef], images: list[LabeledImage]) -> dict[str, bytes]:
    out = {img.file_name: img.image_png for img in images}
    out[TASKS] = json.dumps(to_tasks(classes, images)).encode()
    out["labeling_config.xml"] = labeling_config(classes).encode()
    return out


def looks_like(doc: object) -> bool:
    return isinstance(doc, list) and all(isinstance(t, dict) and "data" in t for t in doc)


def image_key(url: str) -> str:
    """The file name a task's image URL ends in (Label Studio prefixes uploads with a hash: kept)."""
    return posixpath.basename(url.split("?")[0])


def read(doc: object, classes: list[ClassDef]) -> dict[str, tuple[tuple[int, int] | None, np.ndarray | None]]:
    """Label Studio tasks -> {image file name: ((width, height), mask)}; (None, None) for a task with
    no annotation."""
    if not looks_like(doc):
        raise FormatError("not a Label Studio JSON export: it must be a list of tasks, each with 'data'")
    assert isinstance(doc, list)
    by_name = class_by_name(classes)
    out: dict[str, tuple[tuple[int, int] | None, np.ndarray | None]] = {}
    for n, task in enumerate(doc):
        data = task["data"]
        url = next((v for v in data.values() if isinstance(v, str) and v), None) if isinstance(data, dict) else None
        if isinstance(data, dict) and isinstance(data.get("image"), str):
            url = data["image"]
        if not url:
            raise FormatError(f"malformed Label Studio export: task {n} has no image")
        key = image_key(url)
        if key in out:
            raise FormatError(f"malformed Label Studio export: image {key!r} is in two tasks")
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not annotations:
            out[key] = (None, None)
            continue
        out[key] = _read_results(annotations[-1].get("result"), by_name, n)
    return out


def _read_results(results: Any, by_name: dict[str, ClassDef], n: int,
                  ) -> tuple[tuple[int, int] | None, np.ndarray | None]:
    if not isinstance(results, list):
        raise FormatError(f"malformed Label Studio export: task {n} has an annotation without a result list")
    mask: np.ndarray | None = None
    size: tuple[int, int] | None = None
    for r in results:
        kind = r.get("type") if isinstance(r, dict) else None
        if kind not in ("brushlabels", "polygonlabels"):
            continue  # other tools (choices, rectangles) carry no mask
        try:
            w, h = int(r["original_width"]), int(r["original_height"])
            value = r["value"]
            names = value[kind]
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"malformed Label Studio export: a result of task {n} lacks {exc}") from None
        if not (0 < w <= 50_000 and 0 < h <= 50_000):
            raise FormatError(f"malformed Label Studio export: task {n} has an image of {w}x{h}")
        if size is not None and size != (w, h):
            raise FormatError(f"malformed Label Studio export: task {n}'s results disagree on the image size")
        size = (w, h)
        if mask is None:
            mask = np.full((h, w), IGNORE, dtype=np.uint8)
        if not isinstance(names, list) or len(names) != 1 or names[0] not in by_name:
            raise FormatError(f"Label Studio label {names!r} (task {n}) is not one class of the project "
                              f"({', '.join(sorted(by_name))})")
        try:
            binary = rle_to_mask(value["rle"], w, h) if kind == "brushlabels" else _polygon(value["points"], w, h)
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"malformed Label Studio export: task {n} has an unreadable {kind} result ({exc})") \
                from None
        mask[binary] = by_name[names[0]].index
    return size, mask


def _polygon(points: Any, w: int, h: int) -> np.ndarray:
    xy = [(float(x) * w / 100.0, float(y) * h / 100.0) for x, y in points]
    if len(xy) < 3:
        raise ValueError("a polygon needs at least 3 points")
    canvas = Image.new("L", (w, h), 0)
    ImageDraw.Draw(canvas).polygon(xy, fill=1)
    return np.asarray(canvas, dtype=bool)
