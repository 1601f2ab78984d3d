"""Scoring throughput: plain forward vs full MC dropout vs head-only MC dropout (images per second).

Usage: python bench/scoring.py [--images 64] [--size 256] [--samples 8] [--threads N]
Last line: JSON {"plain_ips", "mc_full_ips", "mc_head_ips", "head_only_over_plain"}.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from app.learning.inference import predict_proba
from app.learning.mc_dropout import predict_with_uncertainty
from app.learning.model import UNet
from app.learning.welllog import generate_dataset


def best_of(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)  # the least disturbed run on a shared machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = UNet(num_classes=3, base_channels=16, depth=3, dropout=0.3).eval()
    images = [im for im, _ in generate_dataset(args.images, seed=5, size=args.size)]
    batch = np.stack(images)
    predict_proba(model, batch[:8])  # warm-up
    predict_with_uncertainty(model, images[:8], samples=args.samples)
    plain = best_of(lambda: predict_proba(model, batch), args.repeats)
    head = best_of(lambda: predict_with_uncertainty(model, images, samples=args.samples), args.repeats)
    full = best_of(lambda: predict_with_uncertainty(model, images, samples=args.samples, head_only=False), 1)
    n = len(images)
    figures = {"plain_ips": round(n / plain, 2), "mc_full_ips": round(n / full, 2), "mc_head_ips": round(n / head, 2),
               "head_only_over_plain": round(head / plain, 3)}
    print(f"{n} images of {args.size}x{args.size}, T={args.samples} samples, {torch.get_num_threads()} threads")
    print(f"plain forward        {figures['plain_ips']:8.2f} images/s")
    print(f"full MC dropout      {figures['mc_full_ips']:8.2f} images/s  ({full / plain:.2f}x plain time)")
    print(f"head-only MC dropout {figures['mc_head_ips']:8.2f} images/s  ({head / plain:.2f}x plain time)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
