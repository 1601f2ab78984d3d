"""Manual check, not a test: generator speed and full-label difficulty of the demo data.

    python -m app.simulation.bench --train 100 --test 50 --size 128 --epochs 10 [--png out.png]

Prints ms per generated chart, then trains the default U-Net on fully labeled charts and
reports foreground mIoU on held-out charts with the wall time. The demo must stay hard enough
that labels matter (target: full-data foreground mIoU roughly 0.6-0.85).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from app.learning.evaluation import evaluate_split
from app.learning.model import save_checkpoint
from app.learning.train import TrainConfig, train_segmenter
from app.learning.welllog import CLASSES, generate_chart, generate_dataset


def save_examples(path: str, n: int = 3, size: int = 256, seed: int = 0) -> None:
    """Charts (left) next to colour-coded masks (right), one row per chart."""
    from PIL import Image

    palette = np.array([[255, 255, 255]] + [[int(h[i:i + 2], 16) for i in (1, 3, 5)] for _, h in CLASSES[1:]],
                       np.uint8)
    rows = []
    for image, mask in generate_dataset(n, seed=seed, size=size):
        gap = np.full((size, 6, 3), 128, np.uint8)
        rows.append(np.concatenate([image, gap, palette[mask]], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", type=int, default=100)
    ap.add_argument("--test", type=int, default=50)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--png", default=None, help="also save example charts + masks here")
    ap.add_argument("--save", default=None, help="also save the trained model checkpoint here")
    args = ap.parse_args()

    rng = np.random.default_rng(123)
    t0 = time.perf_counter()
    for _ in range(50):
        generate_chart(rng, 256)
    print(f"generator: {(time.perf_counter() - t0) / 50 * 1e3:.1f} ms per 256x256 chart")
    if args.png:
        save_examples(args.png)

    train = generate_dataset(args.train, seed=1000 + args.seed, size=args.size)
    test = generate_dataset(args.test, seed=2000 + args.seed, size=args.size)
    fg = np.mean([[float((m == c).mean()) for c in range(1, len(CLASSES))] for _, m in train], axis=0)
    print(f"foreground fraction per curve class: {np.round(fg, 4).tolist()}")
    t0 = time.perf_counter()
    model, hist = train_segmenter([im for im, _ in train], [m for _, m in train], len(CLASSES),
                                  config=TrainConfig(epochs=args.epochs, seed=args.seed),
                                  progress=lambda e, loss: print(f"  epoch {e}: loss {loss:.4f}", flush=True))
    train_s = time.perf_counter() - t0
    if args.save:
        save_checkpoint(args.save, model, model.config, {"history_loss": hist["loss"]})
    met = evaluate_split(model, [im for im, _ in test], [m for _, m in test], len(CLASSES))
    ious = {k: round(v["iou"], 3) if v["iou"] is not None else None for k, v in met["per_class"].items()}
    print(f"trained {hist['epochs']} epochs / {hist['steps']} steps in {train_s:.1f} s; "
          f"test miou_fg {met['miou_fg']:.3f} (per class {ious})")


if __name__ == "__main__":
    main()
