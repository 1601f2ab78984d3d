"""The full-data reference under several training recipes (issue 11, branch levers; manual benchmark).

    nice -n 15 .venv/bin/python bench/levers_reference.py --redundancy high --pool 150 --size 48 --test 30 \
        --seeds 5 --steps 150 --pretrain-steps 100 \
        --recipes scratch@1.2e-2,scratch@3e-3,pretrained@3e-3,pretrained@1e-3,pretrained@3e-3/0.1

Trains the simulator's recipe (app.simulation.tasks.train_round, 8-channel U-Net, cosine LR, fixed steps)
on every pool label, once per seed and recipe, and prints the test fg mIoU per seed, the mean and
[min, max]. A recipe is `scratch@LR` or `pretrained@LR[/ENCODER_SCALE]`: pretrained runs fine-tune a
copy of the seed's denoising-pretrained trunk (app.simulation.levers.pretrained_start, once per seed on
the pool's images), the encoder at ENCODER_SCALE x LR. The training seed of seed s is
10_000 * s + FINAL_ROUND, the one the simulator's reference uses (5 for the 150-chart pool with batch 6
doubling), so `scratch@1.2e-2` reproduces the cached reference of bench/README.md's 2026-12-04 stop.
Each finished run is appended to --log as one JSON line; the last line printed is the summary as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from app.simulation.data import load_data  # noqa: E402
from app.simulation.levers import pretrained_start  # noqa: E402
from app.simulation.tasks import evaluate, train_round  # noqa: E402


def parse_recipe(text: str) -> dict[str, Any]:
    start, _, rest = text.partition("@")
    lr, _, scale = rest.partition("/")
    if start not in ("scratch", "pretrained") or not lr:
        raise SystemExit(f"--recipes: {text!r} is not scratch@LR or pretrained@LR[/SCALE]")
    return {"name": text, "pretrained": start == "pretrained", "lr": float(lr), "encoder_lr_scale": float(scale or 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redundancy", choices=["none", "moderate", "high"], default="high")
    ap.add_argument("--pool", type=int, default=150)
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--test", type=int, default=30)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--pretrain-steps", type=int, default=100)
    ap.add_argument("--base-channels", type=int, default=8)
    ap.add_argument("--final-round", type=int, default=5)
    ap.add_argument("--recipes", default="scratch@1.2e-2,scratch@3e-3,pretrained@3e-3,pretrained@1e-3")
    ap.add_argument("--log", default="/tmp/levers-reference.jsonl")
    args = ap.parse_args()
    torch.set_num_threads(1)
    recipes = [parse_recipe(r) for r in args.recipes.split(",")]
    d = load_data("welllog", pool=args.pool, test=args.test, val=None, size=args.size, seed=0,
                  redundancy=args.redundancy)
    per: dict[str, list[float]] = {r["name"]: [] for r in recipes}
    t0 = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        start = None
        if any(r["pretrained"] for r in recipes):
            start, info = pretrained_start(d.pool_images, d.num_classes, steps=args.pretrain_steps,
                                           base_channels=args.base_channels, crop=64, seed=seed)
            print(f"seed {seed}: pretrained {info}", flush=True)
        for r in recipes:
            model, hist = train_round(d.pool_images, d.pool_masks, d.num_classes, steps=args.steps, batch_size=8,
                                      lr=r["lr"], crop=64, seed=10_000 * seed + args.final_round, device="cpu",
                                      base_channels=args.base_channels,
                                      initial_model=start if r["pretrained"] else None,
                                      encoder_lr_scale=r["encoder_lr_scale"])
            m = evaluate(model, d.test_images, d.test_masks, d.classes, device="cpu")
            per[r["name"]].append(m["miou_fg"])
            row = {"recipe": r["name"], "seed": seed, "miou_fg": m["miou_fg"], "per_class_iou": m["per_class_iou"],
                   "train_seconds": round(hist["seconds"], 1), "redundancy": args.redundancy, "pool": args.pool,
                   "size": args.size, "steps": args.steps, "pretrain_steps": args.pretrain_steps}
            print(json.dumps(row), flush=True)
            with open(args.log, "a") as fh:
                fh.write(json.dumps(row) + "\n")
    summary = {name: {"mean": round(float(np.mean(v)), 3), "min": round(min(v), 3), "max": round(max(v), 3),
                      "per_seed": [round(x, 3) for x in v]} for name, v in per.items()}
    print(json.dumps({"summary": summary, "seconds": round(time.perf_counter() - t0, 1), "load": os.getloadavg()}))


if __name__ == "__main__":
    main()
