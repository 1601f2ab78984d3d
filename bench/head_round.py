"""A head-mode round: train_head on N labeled charts whose trunk features are cached (issue 11 target:
1,000 labeled charts of 128 px in <= 10 s on 2 cores).

    PYTHONPATH=. .venv/bin/python bench/head_round.py [--charts 1000] [--size 128] [--steps 200]
        [--kernel 3] [--layers 1] [--threads 0] [--trunk PATH]

The trunk: a checkpoint (e.g. bench/representation.py --trunk-cache's) or a random 16-channel U-Net (the
round's cost does not depend on the weights). Caching the features is timed apart (paid once per image,
when it is labeled); the round is train_head alone. Last line JSON: {"charts", "size", "steps", "kernel",
"layers", "threads", "cache_seconds", "round_seconds", "feature_mib"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.learning.head import HeadConfig, cache_features, train_head  # noqa: E402
from app.learning.model import load_checkpoint  # noqa: E402
from app.learning.pretrain import random_trunk  # noqa: E402
from app.learning.welllog import generate_dataset  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--charts", type=int, default=1000)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="0: torch's default")
    p.add_argument("--trunk", default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    trunk = load_checkpoint(args.trunk)[0] if args.trunk else random_trunk(base_channels=16)
    data = generate_dataset(args.charts, seed=11, size=args.size)
    images, masks = [a for a, _ in data], [b for _, b in data]
    t = time.perf_counter()
    feats = cache_features(trunk, images)
    cache_s = time.perf_counter() - t
    cfg = HeadConfig(kernel=args.kernel, layers=args.layers, steps=args.steps)
    _, hist = train_head(trunk, feats, masks, 3, config=cfg)
    out = {"charts": args.charts, "size": args.size, "steps": hist["steps"], "kernel": args.kernel,
           "layers": args.layers, "threads": torch.get_num_threads(), "cache_seconds": round(cache_s, 1),
           "round_seconds": round(hist["seconds"], 2),
           "feature_mib": round(sum(f.numel() * f.element_size() for f in feats) / 2**20, 1)}
    print(f"{args.charts} charts of {args.size} px: features cached in {cache_s:.1f} s ({out['feature_mib']} MiB "
          f"float16); head round ({hist['steps']} steps, kernel {args.kernel}, {args.layers} layer(s)) "
          f"{hist['seconds']:.2f} s on {out['threads']} thread(s)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
