"""Data for the label-efficiency simulator: the built-in well-log charts or a folder of
images with ground-truth masks, split into pool / validation / test.

A folder holds `images/` and `masks/` with the same file stems; masks are single-channel PNGs
whose pixel value is the class id (IGNORE_INDEX = 255 is void: never scored or trained on). An optional
`classes.json` names the classes: a JSON list of names or {"classes": [...]}; without it the
classes are 0..max id found. Everything is checked before anything is trained, and the first
problem raises SimulationInputError naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from app.learning.constants import IGNORE_INDEX
from app.simulation.config import SimulationInputError

__all__ = ["SimulationInputError", "SimData", "load_data", "read_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class SimData:
    classes: list[str]
    pool_images: list[np.ndarray]
    pool_masks: list[np.ndarray]
    test_images: list[np.ndarray]
    test_masks: list[np.ndarray]
    val_images: list[np.ndarray] = field(default_factory=list)
    val_masks: list[np.ndarray] = field(default_factory=list)
    source: str = "welllog"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def pool_pixels(self) -> int:
        return int(sum(m.size for m in self.pool_masks))


def _read_classes(path: Path) -> list[str]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimulationInputError(f"{path}: not readable JSON ({exc})") from exc
    names = raw.get("classes") if isinstance(raw, dict) else raw
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) and n for n in names):
        raise SimulationInputError(f"{path}: expected a list of at least 2 class names, or {{\"classes\": [...]}}")
    if len(names) >= IGNORE_INDEX:
        raise SimulationInputError(f"{path}: at most {IGNORE_INDEX - 1} classes ({IGNORE_INDEX} means void)")
    return [str(n) for n in names]


def _open(path: Path, what: str) -> Image.Image:
    try:
        img = Image.open(path)
        img.load()
        return img
    except (OSError, ValueError) as exc:
        raise SimulationInputError(f"{path}: cannot read {what} ({exc})") from exc


def _read_pair(image_path: Path, mask_path: Path) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(_open(image_path, "image").convert("RGB"), dtype=np.uint8)
    mimg = _open(mask_path, "mask")
    if mimg.mode not in ("L", "P", "I", "I;16", "1"):
        raise SimulationInputError(f"{mask_path}: mask must be single-channel (class id per pixel), "
                                   f"got mode {mimg.mode}")
    mask = np.asarray(mimg)
    if mask.ndim != 2:
        raise SimulationInputError(f"{mask_path}: mask must be 2-D, got shape {mask.shape}")
    if image.shape[:2] != mask.shape:
        raise SimulationInputError(f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[0]} but image "
                                   f"{image_path.name} is {image.shape[1]}x{image.shape[0]}")
    if mask.min() < 0 or mask.max() > IGNORE_INDEX:
        raise SimulationInputError(f"{mask_path}: class ids must be 0..{IGNORE_INDEX - 1} ({IGNORE_INDEX} = void), "
                                   f"got {int(mask.max())}")
    return image, mask.astype(np.uint8)


def read_folder(root: str | Path) -> tuple[list[str], list[np.ndarray], list[np.ndarray], list[str]]:
    """Read and check a whole folder -> (classes, images, masks, stems), sorted by stem.

    Raises SimulationInputError on the first problem: no images/ or masks/, an image without a
    mask (or a mask without an image), a size mismatch, an unreadable file, a class id outside
    classes.json, fewer than 2 classes.
    """
    root = Path(root)
    if not root.is_dir():
        raise SimulationInputError(f"{root}: not a folder (and not 'welllog')")
    img_dir, mask_dir = root / "images", root / "masks"
    for d in (img_dir, mask_dir):
        if not d.is_dir():
            raise SimulationInputError(f"{d}: missing (a data folder needs images/ and masks/)")
    images = {p.stem: p for p in sorted(img_dir.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    masks = {p.stem: p for p in sorted(mask_dir.iterdir()) if p.suffix.lower() == ".png"}
    if not images:
        raise SimulationInputError(f"{img_dir}: no images (.png, .jpg)")
    for stem, path in images.items():
        if stem not in masks:
            raise SimulationInputError(f"{path}: no mask {mask_dir / (stem + '.png')}")
    for stem, path in masks.items():
        if stem not in images:
            raise SimulationInputError(f"{path}: mask without an image in {img_dir}")
    classes_path = root / "classes.json"
    classes = _read_classes(classes_path) if classes_path.exists() else None
    stems = sorted(images)
    out_images, out_masks = [], []
    max_id = 0
    for stem in stems:
        image, mask = _read_pair(images[stem], masks[stem])
        ids = np.unique(mask)
        ids = ids[ids != IGNORE_INDEX]
        top = int(ids.max()) if ids.size else 0
        if classes is not None and top >= len(classes):
            raise SimulationInputError(f"{masks[stem]}: class id {top} outside classes.json "
                                       f"({len(classes)} classes: 0..{len(classes) - 1})")
        max_id = max(max_id, top)
        out_images.append(image)
        out_masks.append(mask)
    if classes is None:
        if max_id < 1:
            raise SimulationInputError(f"{mask_dir}: masks hold only class 0; nothing to segment")
        classes = ["background"] + [f"class-{i}" for i in range(1, max_id + 1)]
    return classes, out_images, out_masks, stems


def load_data(data: str, *, pool: int | None, test: int | None, val: int | None, size: int,
              seed: int = 0, redundancy: str = "none") -> SimData:
    """`data` = "welllog" (generated: pool 100, val 20, test 40 by default) or a folder.

    Well-log splits use disjoint generator seeds, so each split is the same whatever the other
    counts are. `redundancy` moderate | high draws the charts from one redundant archive
    (app.learning.welllog_pool: few templates with Zipf frequencies, near-duplicate sections):
    pool, validation and test share the archive's templates (one archive seed) but not its
    charts, as a project's held-out charts would; "none" is the independent charts.

    A folder is shuffled once with `seed` and cut into test (default 25%), val (default 10%, for
    temperature fitting only) and pool (the rest, or `pool` images).
    """
    if data == "welllog":
        from app.learning.welllog import CLASSES, generate_dataset

        if size < 32:
            raise SimulationInputError("--size must be at least 32")
        pool_n, test_n, val_n = pool or 100, test or 40, 20 if val is None else val
        if pool_n < 2 or test_n < 1:
            raise SimulationInputError("--pool must be at least 2 and --test at least 1")
        if redundancy == "none":
            p = generate_dataset(pool_n, seed=1000 + seed, size=size)
            t = generate_dataset(test_n, seed=2000 + seed, size=size)
            v = generate_dataset(val_n, seed=3000 + seed, size=size)
        else:
            from app.learning.welllog_pool import generate_pool

            p, t, v = ([(a, b) for a, b in zip(c.images, c.masks, strict=True)]
                       for c in (generate_pool(n, seed=base + seed, size=size, redundancy=redundancy, archive_seed=seed)
                                 for n, base in ((pool_n, 1000), (test_n, 2000), (val_n, 3000))))
        return SimData([name for name, _ in CLASSES], [a for a, _ in p], [b for _, b in p],
                       [a for a, _ in t], [b for _, b in t], [a for a, _ in v], [b for _, b in v], "welllog")
    classes, images, masks, _ = read_folder(data)
    n = len(images)
    test_n = test if test is not None else max(1, n // 4)
    val_n = val if val is not None else (n // 10 if n >= 20 else 0)
    rest = n - test_n - val_n
    pool_n = rest if pool is None else pool
    if test_n < 1 or pool_n < 2 or pool_n > rest:
        raise SimulationInputError(f"{data}: {n} images cannot make test {test_n} + val {val_n} + pool {pool_n} "
                                   "(a pool needs at least 2)")
    order = np.random.default_rng(seed).permutation(n)
    ti, vi, pi = order[:test_n], order[test_n:test_n + val_n], order[test_n + val_n:test_n + val_n + pool_n]
    pick = lambda idx, arr: [arr[int(i)] for i in idx]  # noqa: E731
    return SimData(classes, pick(pi, images), pick(pi, masks), pick(ti, images), pick(ti, masks),
                   pick(vi, images), pick(vi, masks), str(data))
