"""Dataset completion: annotator effort to label a whole pool at a quality bar (manual benchmark).

    .venv/bin/python bench/effort.py [--data welllog|DIR] [--pool 60] [--size 64] [--seeds 5]
        [--quality-bar 0.9] [--audit-share 0.1] [--policy hybrid] [--steps 300]

Three ways to finish the pool (app.simulation.completion, costs from app.simulation.effort):
- hand: every image labeled by hand (quality 1.0 by construction);
- random: random order, humans correct the model's suggestions, machine labels above a bar read off
  a random audit share;
- policy: the same with Labelwise's ranking (--policy, the product's default hybrid).
Prints per seed and the mean with [min, max]; the effort constants are printed too. The last line
is JSON: {"pool", "quality_bar", "hand_effort", "random_effort", "policy_effort", "policy_over_hand",
"policy_over_random", ...}. Targets (issue 11): policy <= 0.10x hand and <= 0.5x random.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see app.simulation.cli.main

import numpy as np  # noqa: E402

from app.simulation.completion import CompletionConfig, complete_pool, hand_effort  # noqa: E402
from app.simulation.data import load_data  # noqa: E402
from app.simulation.effort import constants  # noqa: E402


def _spread(values: list[float]) -> list[float]:
    return [float(min(values)), float(max(values))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="welllog")
    ap.add_argument("--pool", type=int, default=60)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--quality-bar", type=float, default=0.9)
    ap.add_argument("--audit-share", type=float, default=0.1)
    ap.add_argument("--policy", default="hybrid")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--max-rounds", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    for name, value in (("--quality-bar", args.quality_bar), ("--audit-share", args.audit_share)):
        if not 0 <= value <= 1:
            print(f"effort: {name} must be in [0, 1], got {value}", file=sys.stderr)
            return 2
    import torch

    torch.set_num_threads(args.threads)
    data = load_data(args.data, pool=args.pool, test=1, val=None, size=args.size)
    cfg = CompletionConfig(quality_bar=args.quality_bar, audit_share=args.audit_share, steps=args.steps,
                           max_rounds=args.max_rounds, initial=max(2, args.pool // 20), batch=max(2, args.pool // 20))
    hand = hand_effort(data.pool_masks)
    print(f"pool {len(data.pool_masks)} images; effort constants {constants()}; by hand {hand:.0f} s")
    runs: dict[str, list[dict]] = {"random": [], "policy": []}
    started = time.perf_counter()
    for seed in range(args.seeds):
        for name, order in (("random", "random"), ("policy", args.policy)):
            out = complete_pool(data, order, cfg, seed)
            runs[name].append(out)
            print(f"seed {seed} {name:<7} effort {out['effort']:8.0f} s ({out['effort'] / hand:.3f}x hand)  "
                  f"true fg mIoU {out['true_quality']:.3f}  finished after round {out['round']} "
                  f"(bar {out['bar']}, {out['machine_labels']} machine labels)", flush=True)
    eff = {k: [r["effort"] for r in v] for k, v in runs.items()}
    quality = {k: [r["true_quality"] for r in v] for k, v in runs.items()}
    ratio_random = [p / r for p, r in zip(eff["policy"], eff["random"], strict=True)]
    summary = {
        "pool": len(data.pool_masks), "quality_bar": args.quality_bar, "hand_effort": hand,
        "random_effort": float(np.mean(eff["random"])), "policy_effort": float(np.mean(eff["policy"])),
        "policy_over_hand": float(np.mean(eff["policy"]) / hand),
        "policy_over_random": float(np.mean(eff["policy"]) / np.mean(eff["random"])),
        "random_effort_spread": _spread(eff["random"]), "policy_effort_spread": _spread(eff["policy"]),
        "policy_over_random_per_seed_spread": _spread(ratio_random),
        "true_quality": {k: float(np.mean(v)) for k, v in quality.items()},
        "true_quality_min": {k: float(min(v)) for k, v in quality.items()},
        "seeds": args.seeds, "policy": args.policy, "audit_share": args.audit_share, "data": args.data,
        "seconds": round(time.perf_counter() - started, 1), "constants": constants(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
