"""Does a representation learned from the unlabeled pool help at small label budgets? (manual benchmark)

    .venv/bin/python bench/representation.py [--redundancy none,high] [--budgets 10,20,40,80] [--seeds 3]
        [--methods scratch,head,finetune] [--pool 1000] [--test 60] [--pretrain-steps 400] ...

Per redundancy level: a pool of charts (app.learning.welllog_pool) and a test split from the same
archive. Label budgets are random picks (nested per seed: the first B of one permutation). Methods:

  scratch   today's from-scratch U-Net: train_segmenter on the simulator's measured recipe (8 channels,
            LR 1.2e-2, batch 8, 64 px crops (--crop), a fixed number of steps on one cosine schedule)
  head      the pool-pretrained trunk (app.learning.pretrain, once per pool, shared by every seed), frozen;
            a light head (app.learning.head) on its cached features
  finetune  the pretrained trunk fine-tuned end to end (train_segmenter(initial_model=...)) briefly

Prints fg mIoU (foreground classes' mean IoU) on the test split per budget and method, mean and
min-max over seeds, and wall times. With --acquire, also entropy-picked vs random-picked labels with
the pretrained head (equal compute: the same head schedule every round). The last line is JSON.

Measured 2026-12-02 (1,000-chart pools of 128 px, 60 test charts, 3 seeds, one thread of a shared 2-core
machine; fg mIoU mean [min, max]):

    pool   labeled  scratch (500 steps)    pretrained + frozen 3x3 head
    high   10       0.397 [0.371, 0.419]   0.304 [0.285, 0.329]
    high   20       0.442 [0.441, 0.444]   0.311 [0.301, 0.326]
    high   40       0.449 [0.388, 0.482]   0.314 [0.305, 0.323]
    high   80       0.447 [0.431, 0.456]   0.319 [0.308, 0.326]
    none   10       0.401 [0.363, 0.435]   0.257 [0.249, 0.273]
    none   20       -                      0.265 [0.255, 0.273]
    none   40       0.409 [0.393, 0.422]   0.266 [0.256, 0.272]
    none   80       -                      0.270 [0.262, 0.286]

The frozen representation (denoising, 800 steps) is 0.09-0.14 fg mIoU BELOW from-scratch training at every
budget, far beyond the seed spread, and flat in the budget (representation-limited). Its one gain is
cost: 6-12 s a model against 43-94 s.

Light fine-tuning instead (high pool, 200 steps from the pretrained 16-channel trunk, LR 3e-3) against
scratch at the same 200 steps (8 channels, the simulator's recipe): 10 labeled 0.368 [0.360, 0.376] vs
0.351 [0.348, 0.357]; 40 labeled 0.417 [0.402, 0.434] vs 0.396 [0.373, 0.428]: +0.02, at the edge of the
spread (and the trunks differ in width), while scratch at 500 steps is higher still (0.397, 0.449).

--acquire (high pool, pretrained frozen head, 3 seeds, shared random seed set of 10, 200 scored candidates
a round): entropy vs random at 20 labeled 0.325 [0.325, 0.326] vs 0.310 [0.298, 0.330]; 40: 0.329
[0.321, 0.336] vs 0.318 [0.302, 0.327]; 80: 0.330 [0.325, 0.333] vs 0.316 [0.303, 0.323]: +0.01-0.015,
beyond the spread only at 80 (by 0.002), on a head that stays 0.12 below scratch training.

Pool 300 high, 5 seeds: scratch vs fine-tune 0.417 vs 0.422 at 10 labeled, 0.453 vs 0.436 at 20: within the spread.
20 labeled, 10 seeds: 0.452 vs 0.447 (5 of 10 favour each); --crop 128, 5 seeds: 0.473 vs 0.479: within the spread.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.learning.acquisition import Candidate, select_batch  # noqa: E402
from app.learning.calibration import logits_for  # noqa: E402
from app.learning.head import HeadConfig, cache_features, train_head  # noqa: E402
from app.learning.losses import class_weights  # noqa: E402
from app.learning.mc_dropout import predict_with_uncertainty  # noqa: E402
from app.learning.metrics import confusion_matrix, segmentation_metrics  # noqa: E402
from app.learning.model import ModelConfig, UNet, load_checkpoint, save_checkpoint  # noqa: E402
from app.learning.pretrain import PretrainConfig, pretrain_trunk  # noqa: E402
from app.learning.train import TrainConfig, train_segmenter  # noqa: E402
from app.learning.welllog_pool import generate_pool, near_duplicate_rate, style_entropy  # noqa: E402


def miou_fg(model: UNet, images: list[np.ndarray], masks: list[np.ndarray]) -> float:
    conf = np.zeros((3, 3), np.int64)
    for lg, m in zip(logits_for(model, images), masks, strict=True):
        conf += confusion_matrix(lg.argmax(0), m, 3)
    value = segmentation_metrics(conf)["miou_fg"]
    return 0.0 if value is None else float(value)


def repeat_to_steps(images: list[np.ndarray], masks: list[np.ndarray], steps: int, batch: int,
                    seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Whole shuffled passes cut at steps * batch samples: train_segmenter with epochs=1 then runs
    exactly `steps` steps (as the simulator's train_round)."""
    rng = np.random.default_rng([seed, 7])
    want = max(steps * batch, len(images))
    order = np.concatenate([rng.permutation(len(images)) for _ in range(math.ceil(want / len(images)))])[:want]
    return [images[int(i)] for i in order], [masks[int(i)] for i in order]


def train_scratch(images: list[np.ndarray], masks: list[np.ndarray], args: argparse.Namespace, seed: int) -> UNet:
    ims, ms = repeat_to_steps(images, masks, args.scratch_steps, 8, seed)
    cfg = TrainConfig(epochs=1, batch_size=8, lr=args.scratch_lr, crop_size=args.crop, seed=seed)
    model, _ = train_segmenter(ims, ms, 3, config=cfg,
                               model_config=ModelConfig(num_classes=3, base_channels=args.scratch_channels))
    return model


def train_finetune(trunk: UNet, images: list[np.ndarray], masks: list[np.ndarray], args: argparse.Namespace,
                   seed: int) -> UNet:
    ims, ms = repeat_to_steps(images, masks, args.finetune_steps, 8, seed)
    cfg = TrainConfig(epochs=1, batch_size=8, lr=args.finetune_lr, crop_size=args.crop, seed=seed)
    model, _ = train_segmenter(ims, ms, 3, config=cfg, initial_model=trunk)
    return model


def spread(values: list[float]) -> dict[str, Any]:
    return {"mean": round(float(np.mean(values)), 4), "min": round(min(values), 4), "max": round(max(values), 4),
            "runs": [round(v, 4) for v in values]}


def run_level(level: str, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    pool = generate_pool(args.pool, seed=1000, size=args.size, redundancy=level, archive_seed=args.archive)
    test = generate_pool(args.test, seed=2000, size=args.size, redundancy=level, archive_seed=args.archive)
    gen_s = time.perf_counter() - t0
    dup = near_duplicate_rate(pool.images)
    out: dict[str, Any] = {"pool": args.pool, "generate_seconds": round(gen_s, 1), "near_duplicate_rate": round(dup, 4),
                           "style_entropy_bits": round(style_entropy(pool.style_ids), 2), "methods": {}, "seconds": {}}
    print(f"\n== redundancy {level}: {args.pool} charts of {args.size} px generated in {gen_s:.0f} s; "
          f"near-duplicate rate {dup:.3f}, style entropy {out['style_entropy_bits']} bits", flush=True)
    trunk = None
    if {"head", "finetune"} & set(args.methods) or args.acquire:
        cfg = PretrainConfig(task=args.pretext, steps=args.pretrain_steps, batch_size=args.pretrain_batch,
                             contrastive_weight=args.contrastive, max_seconds=args.pretrain_seconds)
        cache = Path(f"{args.trunk_cache}-{level}-{args.pool}-{args.pretext}-{args.pretrain_steps}.pt") \
            if args.trunk_cache else None
        if cache is not None and cache.exists():
            trunk, _, hist = load_checkpoint(cache)  # torch.load(weights_only=True)
            print(f"pretrained trunk loaded from {cache}", flush=True)
        else:
            trunk, hist = pretrain_trunk(pool.images, config=cfg)
            if cache is not None:
                save_checkpoint(cache, trunk, trunk.config, extra={k: hist[k] for k in
                                                                   ("steps", "seconds", "first_loss", "last_loss")})
        out["pretrain"] = {"task": args.pretext, "contrastive_weight": args.contrastive, "steps": hist["steps"],
                           "seconds": round(hist["seconds"], 1), "first_loss": round(hist["first_loss"], 4),
                           "last_loss": round(hist["last_loss"], 4)}
        print(f"pretrain ({args.pretext}, contrastive {args.contrastive}): {hist['steps']} steps in "
              f"{hist['seconds']:.0f} s, loss {hist['first_loss']:.3f} -> {hist['last_loss']:.3f}", flush=True)
    head_cfg = HeadConfig(kernel=args.head_kernel, layers=args.head_layers, steps=args.head_steps)
    for method in args.methods:
        per_budget: dict[str, Any] = {}
        times: list[float] = []
        for budget in args.budgets:
            values = []
            for seed in range(args.seed_start, args.seed_start + args.seeds):
                pick = np.random.default_rng([seed, 5]).permutation(args.pool)[:budget]
                ims, ms = [pool.images[i] for i in pick], [pool.masks[i] for i in pick]
                t = time.perf_counter()
                if method == "scratch":
                    model = train_scratch(ims, ms, args, seed)
                elif method == "head":
                    assert trunk is not None
                    model, _ = train_head(trunk, cache_features(trunk, ims), ms, 3,
                                          config=HeadConfig(**{**head_cfg.to_dict(), "seed": seed}))
                else:
                    assert trunk is not None
                    model = train_finetune(trunk, ims, ms, args, seed)
                times.append(time.perf_counter() - t)
                values.append(miou_fg(model, test.images, test.masks))
            per_budget[str(budget)] = spread(values)
            s = per_budget[str(budget)]
            print(f"{method:9s} {budget:4d} labeled: fg mIoU {s['mean']:.3f} [{s['min']:.3f}, {s['max']:.3f}] "
                  f"runs {s['runs']}", flush=True)
        out["methods"][method] = per_budget
        out["seconds"][method] = round(float(np.mean(times)), 1)
        print(f"{method}: {np.mean(times):.1f} s per model on average", flush=True)
    if args.acquire and trunk is not None:
        out["acquire"] = acquire(pool, test, trunk, head_cfg, args)
    return out


def acquire(pool: Any, test: Any, trunk: UNet, head_cfg: HeadConfig, args: argparse.Namespace) -> dict[str, Any]:
    """Entropy vs random picks with the pretrained head: start from the same random seed set, add
    `step` charts per round up to the largest budget; each round trains the head from scratch on the
    same schedule (equal compute). Scores a random subset of the unlabeled pool (cost)."""
    result: dict[str, Any] = {}
    budgets = args.budgets
    for strategy in ("random", "entropy"):
        curves: dict[str, list[float]] = {str(b): [] for b in budgets}
        for seed in range(args.seeds):
            rng = np.random.default_rng([seed, 9])
            labeled = list(np.random.default_rng([seed, 5]).permutation(args.pool)[:budgets[0]])
            model: UNet | None = None  # the previous round's head
            for bi, budget in enumerate(budgets):
                if bi > 0:
                    need = budget - len(labeled)
                    rest = np.setdiff1d(np.arange(args.pool), labeled)
                    cand_idx = rng.choice(rest, size=min(len(rest), args.score_subset), replace=False)
                    if strategy == "random":
                        labeled += [int(i) for i in cand_idx[:need]]
                    else:
                        assert model is not None
                        cand_images = [pool.images[i] for i in cand_idx]
                        maps = predict_with_uncertainty(model, cand_images, samples=8, seed=seed)
                        cands = [Candidate(j, (0, 0, args.size, args.size)) for j in range(len(cand_idx))]
                        weights = class_weights([pool.masks[i] for i in labeled], 3)
                        picks = select_batch("entropy", cands, maps, need, rng=rng, class_weights=weights)
                        labeled += [int(cand_idx[p.candidate.image_index]) for p in picks]
                ims, ms = [pool.images[i] for i in labeled], [pool.masks[i] for i in labeled]
                model, _ = train_head(trunk, cache_features(trunk, ims), ms, 3,
                                      config=HeadConfig(**{**head_cfg.to_dict(), "seed": seed}))
                curves[str(budget)].append(miou_fg(model, test.images, test.masks))
        result[strategy] = {b: spread(v) for b, v in curves.items()}
        for b, s in result[strategy].items():
            print(f"acquire {strategy:8s} {int(b):4d} labeled: fg mIoU {s['mean']:.3f} "
                  f"[{s['min']:.3f}, {s['max']:.3f}]", flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--redundancy", default="none,high")
    p.add_argument("--budgets", default="10,20,40,80")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seed-start", type=int, default=0, help="first seed (add seeds to an earlier run)")
    p.add_argument("--methods", default="scratch,head")
    p.add_argument("--pool", type=int, default=1000)
    p.add_argument("--test", type=int, default=60)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--archive", type=int, default=0, help="template seed shared by pool and test")
    p.add_argument("--scratch-steps", type=int, default=1000)
    p.add_argument("--scratch-lr", type=float, default=1.2e-2)
    p.add_argument("--scratch-channels", type=int, default=8,
                   help="the U-Net's base channels from scratch (the pretrained trunk's are 16: set 16 to compare "
                        "like with like)")
    p.add_argument("--pretext", default="denoise", choices=("masked", "denoise"))
    p.add_argument("--contrastive", type=float, default=0.0)
    p.add_argument("--pretrain-steps", type=int, default=800)
    p.add_argument("--pretrain-batch", type=int, default=8)
    p.add_argument("--pretrain-seconds", type=float, default=None)
    p.add_argument("--head-steps", type=int, default=200)
    p.add_argument("--head-kernel", type=int, default=3)
    p.add_argument("--head-layers", type=int, default=1, help="adapter conv + ReLU layers")
    p.add_argument("--finetune-steps", type=int, default=200)
    p.add_argument("--finetune-lr", type=float, default=3e-3)
    p.add_argument("--crop", type=int, default=64,
                   help="training crop, scratch and finetune (the product's LABELWISE_TRAIN_CROP is 128)")
    p.add_argument("--acquire", action="store_true", help="entropy vs random picks with the pretrained head")
    p.add_argument("--score-subset", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--trunk-cache", default=None, help="path prefix: save the pretrained trunk, reuse it next run")
    args = p.parse_args()
    args.budgets = [int(b) for b in args.budgets.split(",")]
    args.methods = [m for m in args.methods.split(",") if m]
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    results = {"budgets": args.budgets, "seeds": args.seeds, "size": args.size, "threads": args.threads,
               "crop": args.crop, "scratch_steps": args.scratch_steps,
               "head": {"kernel": args.head_kernel, "layers": args.head_layers, "steps": args.head_steps},
               "levels": {level: run_level(level, args) for level in args.redundancy.split(",")}}
    results["wall_seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
