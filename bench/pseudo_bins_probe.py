"""How right are a model's most confident predictions of each class? (manual probe, bench/README.md run H)

    .venv/bin/python bench/pseudo_bins_probe.py

Run A's data and recipe (high redundancy, 150 charts of 48 px, 20 validation charts, 8 channels, 150 steps, LR
3e-3): trains on the first 52 charts (the labels of run A's last round) and on all 150, fits the temperature on
the validation split, and prints per predicted class how many validation pixels it holds, the share right, and
its three most confident bins with >= 50 pixels (lo, pixels, accuracy): what a per-class pseudo-label bar reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from app.learning.calibration import fit_temperature, flatten_pixels, reliability_bins  # noqa: E402
from app.learning.inference import logits_for, softmax  # noqa: E402
from app.simulation.data import load_data  # noqa: E402
from app.simulation.levers import BIN_MIN_PIXELS  # noqa: E402
from app.simulation.tasks import train_round  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)
    d = load_data("welllog", pool=150, test=30, val=20, size=48, redundancy="high")
    for n in (52, 150):
        model, _ = train_round(d.pool_images[:n], d.pool_masks[:n], 3, steps=150, batch_size=8, lr=3e-3, crop=64,
                               seed=4, device="cpu", base_channels=8)
        logits = logits_for(model, d.val_images, device="cpu", batch_size=16)
        t = fit_temperature(logits, list(d.val_masks))
        p, y = flatten_pixels([softmax(x, t) for x in logits], list(d.val_masks))
        pred = p.argmax(1)
        for c in range(p.shape[1]):
            sel = pred == c
            bins = [b for b in reliability_bins(p[sel], y[sel], per_class=False)["overall"]
                    if b["count"] >= BIN_MIN_PIXELS]
            print(f"{n} charts, predicted class {c}: {int(sel.sum())} px, {float((y[sel] == c).mean()):.1%} right; "
                  f"top bins {[(round(b['lo'], 2), b['count'], round(b['accuracy'], 3)) for b in bins[-3:]]}")


if __name__ == "__main__":
    main()
