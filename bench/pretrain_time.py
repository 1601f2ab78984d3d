"""Pretraining a representation on a large pool, with the product's settings (issue 11: <= 10 min on 2 cores
for 5,000 charts). Manual benchmark:

    .venv/bin/python bench/pretrain_time.py [--pool 5000] [--size 128] [--redundancy high] [--threads 2]

Times what the `pretrain` job (app/flows/pretrain.py) computes, without the database and the files: the
pretext training (app.learning.pretrain.pretrain_trunk with the settings' steps, batch, crop, channels and
time cap), then the one batched pass of the trunk over every pool image that gives the embeddings (the same pass
in head mode, which also writes each image's features: not done here).
Chart generation is timed apart: a project's images are already on disk. Prints the load average with the
figures; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import torch

    from app.config import get_settings
    from app.learning.pretrain import PretrainConfig, pretrain_trunk
    from app.learning.welllog_pool import generate_pool
    from app.modeling.representations import compute_embeddings

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pool", type=int, default=5_000)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--redundancy", default="high", choices=["none", "moderate", "high"])
    ap.add_argument("--threads", type=int, default=2, help="torch threads (the worker's machine: 2 cores)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    settings = get_settings()
    load = os.getloadavg()

    t0 = time.perf_counter()
    images = generate_pool(args.pool, seed=1000, size=args.size, redundancy=args.redundancy).images
    gen_s = time.perf_counter() - t0
    config = PretrainConfig(steps=settings.pretrain_steps, batch_size=settings.pretrain_batch_size,
                            crop_size=settings.pretrain_crop, base_channels=settings.unet_base_channels,
                            max_seconds=settings.pretrain_max_seconds, log_every=max(1, settings.pretrain_steps // 5))
    t0 = time.perf_counter()
    model, history = pretrain_trunk(images, config=config)
    train_s = time.perf_counter() - t0
    print(f"pretext training done in {train_s:.1f} s", flush=True)  # a run cut short keeps this
    t0 = time.perf_counter()
    vectors = compute_embeddings(model, images)
    embed_s = time.perf_counter() - t0
    total = train_s + embed_s
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; "
          f"{args.threads} torch threads")
    print(f"{args.pool:,} charts of {args.size} px ({args.redundancy} redundancy) generated in {gen_s:.1f} s "
          "(not counted: a project's images exist)")
    print(f"pretext training: {history['steps']} steps (settings: {settings.pretrain_steps}, cap "
          f"{settings.pretrain_max_seconds:.0f} s{', cut by the cap' if history['stopped_early'] else ''}) in "
          f"{train_s:.1f} s; loss {history['first_loss']:.4f} -> {history['last_loss']:.4f}")
    print(f"trunk pass over every image: {embed_s:.1f} s, {args.pool / embed_s:.0f} images/s; "
          f"embeddings {tuple(vectors.shape)}")
    print(f"total {total:.1f} s = {total / 60:.1f} min (target <= 10 min): {'met' if total <= 600 else 'NOT met'}")
    print(json.dumps({"pool": args.pool, "size": args.size, "threads": args.threads,
                      "steps": history["steps"], "pretrain_s": round(train_s, 1), "embed_s": round(embed_s, 1),
                      "total_s": round(total, 1), "loss_first": round(history["first_loss"], 5),
                      "loss_last": round(history["last_loss"], 5), "stopped_early": history["stopped_early"]}))


if __name__ == "__main__":
    main()
