"""The centroid first batch on its own: round 0's model from a centroid seed set against a random one.

    .venv/bin/python bench/first_batch_round0.py [--seeds 10] [--ks 6,12] [--redundancy high] [--pool 150]
        [--size 48] [--steps 150] [--lr 3e-3] [--data-seed 0]

For each seed and k, the simulator's round 0 twice (app.simulation.run: the same seed set rule, training seed
10,000 x seed, test split, recipe), once per `--first-batch` rule, so a pair differs only in the images labeled;
prints per seed the templates in each seed set and the test fg mIoU, then per k the mean paired difference
(centroid - random) with its [min, max]. Last line JSON. Much cheaper than a whole run (one training run per seed,
k and rule) and free of the later rounds' noise, which is what the lever changes directly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from app.learning.welllog_pool import generate_pool  # noqa: E402
from app.simulation.data import load_data  # noqa: E402
from app.simulation.run import SimConfig, SimRun  # noqa: E402
from app.simulation.tasks import LabelState, all_candidates  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--ks", default="6,12")
    ap.add_argument("--redundancy", default="high")
    ap.add_argument("--pool", type=int, default=150)
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--test", type=int, default=30)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--data-seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    base = SimConfig(redundancy=args.redundancy, pool=args.pool, size=args.size, test=args.test, steps=args.steps,
                     lr=args.lr, data_seed=args.data_seed, unit="image")
    data = load_data("welllog", pool=args.pool, test=args.test, val=None, size=args.size, seed=args.data_seed,
                     redundancy=args.redundancy)
    styles = generate_pool(args.pool, seed=1000 + args.data_seed, size=args.size, redundancy=args.redundancy,
                           archive_seed=args.data_seed).style_ids
    tasks = all_candidates([m.shape for m in data.pool_masks], "image", base.tile)
    t0 = time.perf_counter()
    out: dict[str, dict[str, list[float]]] = {}
    for k in (int(v) for v in args.ks.split(",")):
        rows: dict[str, list[float]] = {"random": [], "centroid": [], "random_templates": [], "centroid_templates": []}
        for seed in range(args.seeds):
            line = []
            for rule in ("random", "centroid"):
                run = SimRun(SimConfig(**{**base.to_dict(), "strategies": ("random",), "first_batch": rule}), data,
                           lambda _m, _t, _r: None)
                state = LabelState(data.pool_masks, tasks)
                picks = run.seed_set(seed, len(tasks), k)
                state.label(picks)
                xs, ys = state.training_samples(data.pool_images, "image", base.tile // 2)
                _, metrics = run.train_eval(xs, ys, seed=10_000 * seed, start=seed)
                templates = len(set(styles[picks].tolist()))
                rows[rule].append(metrics["miou_fg"])
                rows[f"{rule}_templates"].append(templates)
                line.append(f"{rule} {templates} templates fg mIoU {metrics['miou_fg']:.3f}")
            print(f"k={k} seed {seed}: " + "; ".join(line), flush=True)
        diff = np.asarray(rows["centroid"]) - np.asarray(rows["random"])
        print(f"k={k}: random {np.mean(rows['random']):.3f} [{min(rows['random']):.3f}, {max(rows['random']):.3f}], "
              f"centroid {np.mean(rows['centroid']):.3f} [{min(rows['centroid']):.3f}, {max(rows['centroid']):.3f}]; "
              f"paired centroid - random {diff.mean():+.3f} [{diff.min():+.3f}, {diff.max():+.3f}], "
              f"centroid ahead on {int((diff > 0).sum())}/{len(diff)} seeds; templates "
              f"{np.mean(rows['random_templates']):.1f} vs {np.mean(rows['centroid_templates']):.1f}", flush=True)
        out[str(k)] = rows
    print(json.dumps({"first_batch_round0": out, "seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
