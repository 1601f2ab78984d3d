"""Which embedding lets a centroid first batch cover the pool's templates (issue 11, branch centroid).

    .venv/bin/python bench/centroid_embeddings.py [--redundancy high] [--pool 150] [--size 48] [--seeds 5]

On the simulator's pool (app.learning.welllog_pool, the data seed 0 as app.simulation.data draws it), for
k = 2, 6, 12, 24 picks: the distinct templates (`ChartPool.style_ids`) and wells the k-means centroid picks
(app.learning.centroids) cover, mean over --seeds k-means seeds, against a random draw of k charts (mean of
500 draws), for two embeddings without labels:
  trunk       a fixed random-init U-Net trunk's pooled features (app.learning.mc_dropout.image_embeddings on a
              fresh seeded model: the simulator's width, 8 channels)
  descriptor  an 8x8 thumbnail plus a per-channel colour histogram (app.learning.centroids.descriptor)
Last line JSON: {embedding: {k: templates covered}, "random": {k: ...}, "seconds": {embedding: s}}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from app.learning.centroids import centroid_picks, descriptor  # noqa: E402
from app.learning.mc_dropout import image_embeddings  # noqa: E402
from app.learning.model import UNet  # noqa: E402
from app.learning.welllog_pool import generate_pool  # noqa: E402


def trunk_embeddings(images: list[np.ndarray], seed: int, base_channels: int) -> np.ndarray:
    torch.manual_seed(seed)
    return image_embeddings(UNet(num_classes=3, base_channels=base_channels), images)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redundancy", default="high")
    ap.add_argument("--pool", type=int, default=150)
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--base-channels", type=int, default=8)
    ap.add_argument("--ks", default="2,6,12,24")
    args = ap.parse_args()
    torch.set_num_threads(1)
    pool = generate_pool(args.pool, seed=1000, size=args.size, redundancy=args.redundancy, archive_seed=0)
    styles, wells = pool.style_ids, pool.well_ids
    ks = [int(k) for k in args.ks.split(",")]
    counts = np.bincount(styles[styles >= 0]) if (styles >= 0).any() else np.zeros(0)
    print(f"pool {args.pool} charts of {args.size} px, redundancy {args.redundancy}: {len(set(styles.tolist()))} "
          f"templates (charts per template {counts.tolist()}), {len(set(wells.tolist()))} wells")
    rng = np.random.default_rng(0)
    out: dict[str, dict[int, float]] = {"random": {}}
    wells_out: dict[str, dict[int, float]] = {"random": {}}
    for k in ks:
        draws = [rng.choice(args.pool, size=k, replace=False) for _ in range(500)]
        out["random"][k] = float(np.mean([len(set(styles[d].tolist())) for d in draws]))
        wells_out["random"][k] = float(np.mean([len(set(wells[d].tolist())) for d in draws]))
    seconds = {}
    for name in ("trunk", "descriptor"):
        out[name], wells_out[name] = {}, {}
        t0 = time.perf_counter()
        embs = [trunk_embeddings(pool.images, s, args.base_channels) if name == "trunk" else descriptor(pool.images)
                for s in range(args.seeds)]
        for k in ks:
            picks = [centroid_picks(embs[s], k, seed=[0, s]) for s in range(args.seeds)]
            out[name][k] = float(np.mean([len(set(styles[p].tolist())) for p in picks]))
            wells_out[name][k] = float(np.mean([len(set(wells[p].tolist())) for p in picks]))
        seconds[name] = round(time.perf_counter() - t0, 2)
    for name in out:
        row = ", ".join(f"k={k}: {out[name][k]:.1f} templates / {wells_out[name][k]:.1f} wells" for k in ks)
        print(f"{name:>10}: {row}" + (f"  ({seconds[name]} s for {args.seeds} seeds)" if name in seconds else ""))
    print(json.dumps({"templates": out, "wells": wells_out, "seconds": seconds}))


if __name__ == "__main__":
    main()
