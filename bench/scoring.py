"""Scoring throughput: plain forward vs full MC dropout vs head-only MC dropout vs cached-feature scoring
(images per second).

Usage: python bench/scoring.py [--images 64] [--size 256] [--samples 8] [--repeats 3] [--full-images 16]
       [--threads N] [--head-kernel 3] [--head-layers 1]

The default U-Net (base 16, depth 3, dropout 0.3), untrained (speed does not depend on the weights).
Plain and head-only are timed in alternation, `repeats` times each, so both see the same load on a
shared machine; the best run of each counts (the least disturbed), and the median of the paired
ratios is printed as a check. Full MC dropout (T passes) is ~T times slower, so it is timed once on
the first `full-images` images (images per second does not depend on how many).
Cached: a head-mode model version (app.learning.head.HeadedUNet: the same trunk frozen + adapter + dropout
+ 1x1) scored from its cached float16 trunk features (app.learning.cached_head.predict_from_features), read
from in-memory .npy bytes (the worker reads them from files; the decode is timed, the disk is not), timed
in the same alternation; "cached_reduced" stores them at half the side (4x fewer bytes) and upsamples.
Last line: JSON {"plain_ips", "mc_full_ips", "mc_head_ips", "head_only_over_plain", "cached_head_ips",
"cached_over_head_only", "cached_reduced_ips", "feature_kib_full", "feature_kib_reduced", ...}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from app.learning.cached_head import features_from_bytes, features_to_bytes, predict_from_features, reduce_features
from app.learning.head import HeadConfig, HeadedUNet, cache_features
from app.learning.inference import predict_proba
from app.learning.mc_dropout import predict_with_uncertainty
from app.learning.model import UNet
from app.learning.welllog import generate_dataset


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-images", type=int, default=16, help="images for the (slow) full MC pass")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--head-kernel", type=int, default=3, help="adapter kernel of the cached head")
    parser.add_argument("--head-layers", type=int, default=1, help="adapter layers of the cached head")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = UNet(num_classes=3, base_channels=16, depth=3, dropout=0.3).eval()
    images = [im for im, _ in generate_dataset(args.images, seed=5, size=args.size)]
    batch = np.stack(images)
    full_images = images[: max(1, min(args.full_images, len(images)))]

    def plain() -> object:
        return predict_proba(model, batch)

    def head() -> object:
        return predict_with_uncertainty(model, images, samples=args.samples)

    headed = HeadedUNet(model, HeadConfig(kernel=args.head_kernel, layers=args.head_layers), 3).eval()
    feats = cache_features(headed, images)
    blobs = [features_to_bytes(f) for f in feats]
    small = [features_to_bytes(reduce_features(f, 2)) for f in feats]
    sizes = [im.shape[:2] for im in images]

    def cached() -> object:
        return predict_from_features(headed, [features_from_bytes(b) for b in blobs], samples=args.samples)

    def cached_reduced() -> object:
        return predict_from_features(headed, [features_from_bytes(b) for b in small], samples=args.samples,
                                     sizes=sizes)

    def full() -> object:
        return predict_with_uncertainty(model, full_images, samples=args.samples, head_only=False)

    predict_proba(model, batch[:8])  # warm-up: allocator, oneDNN kernels
    predict_with_uncertainty(model, images[:8], samples=args.samples)
    cached()
    plain_t, head_t, cached_t, reduced_t = [], [], [], []
    for _ in range(args.repeats):
        plain_t.append(timed(plain))
        head_t.append(timed(head))
        cached_t.append(timed(cached))
        reduced_t.append(timed(cached_reduced))
    full_t = timed(full)
    n = len(images)
    figures = {
        "plain_ips": round(n / min(plain_t), 2),
        "mc_full_ips": round(len(full_images) / full_t, 2),
        "mc_head_ips": round(n / min(head_t), 2),
        "head_only_over_plain": round(min(head_t) / min(plain_t), 3),
        "head_only_over_plain_median": round(statistics.median(h / p for h, p in zip(head_t, plain_t, strict=True)), 3),
        "full_over_plain": round((full_t / len(full_images)) / (min(plain_t) / n), 2),
        "cached_head_ips": round(n / min(cached_t), 2),
        "cached_over_head_only": round(min(head_t) / min(cached_t), 2),
        "cached_over_head_only_median": round(statistics.median(h / c for h, c in zip(head_t, cached_t, strict=True)),
                                              2),
        "cached_reduced_ips": round(n / min(reduced_t), 2),
        "feature_kib_full": round(len(blobs[0]) / 1024, 1),
        "feature_kib_reduced": round(len(small[0]) / 1024, 1),
        "head_kernel": args.head_kernel,
        "head_layers": args.head_layers,
    }
    def runs(ts: list[float]) -> str:
        return ", ".join(f"{t:.2f}" for t in ts)

    print(f"{n} images of {args.size}x{args.size}, T={args.samples} samples, {torch.get_num_threads()} threads, "
          f"{args.repeats} alternating repeats")
    print(f"plain forward        {figures['plain_ips']:8.2f} images/s  (runs: {runs(plain_t)} s)")
    print(f"head-only MC dropout {figures['mc_head_ips']:8.2f} images/s  (runs: {runs(head_t)} s)  "
          f"{figures['head_only_over_plain']:.3f}x plain time (median of pairs "
          f"{figures['head_only_over_plain_median']:.3f}x)")
    print(f"full MC dropout      {figures['mc_full_ips']:8.2f} images/s  "
          f"({figures['full_over_plain']:.2f}x plain time, {len(full_images)} images)")
    print(f"cached-feature head   {figures['cached_head_ips']:8.2f} images/s  (runs: {runs(cached_t)} s)  "
          f"{figures['cached_over_head_only']:.2f}x head-only speed (median of pairs "
          f"{figures['cached_over_head_only_median']:.2f}x); {figures['feature_kib_full']} KiB float16 per image")
    print(f"cached, half side    {figures['cached_reduced_ips']:8.2f} images/s  (runs: {runs(reduced_t)} s)  "
          f"{figures['feature_kib_reduced']} KiB per image")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
