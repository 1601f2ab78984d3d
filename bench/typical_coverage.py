"""What the `typical` strategy's labels cover, against random's, on the simulator's pool (issue 11, branch typical).

    .venv/bin/python bench/typical_coverage.py [--seeds 10] [--initial 2] [--batch 2] [--growth 3] [--budget 0.35]

Random and typical need no model to pick (typical clusters the label-free descriptors), so their labeled
sets can be replayed exactly as `labelwise simulate` draws them -- the same seed set, the same round rngs,
the same app.simulation.acquire.acquire -- without training anything (seconds). For each round it prints
the distinct templates (`ChartPool.style_ids`) and wells the labeled charts cover, mean [min, max] over the
seeds, and the share of the labels spent on the two commonest templates (59% of this pool). The pool: high
redundancy, 150 charts of 48 px, data seed 0 (the runs of bench/README.md). Last line JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from app.learning.welllog_pool import generate_pool  # noqa: E402
from app.simulation.acquire import AcquireConfig, acquire  # noqa: E402
from app.simulation.config import SimConfig, schedule  # noqa: E402
from app.simulation.tasks import all_candidates  # noqa: E402

STRATEGIES = ("random", "typical")  # the two that pick without a model


def replay(images: list[np.ndarray], counts: list[int], strategy: str, seed: int,
           data_seed: int = 0) -> list[list[int]]:
    """The labeled task ids after each round, as app.simulation.run._simulate draws them."""
    tasks = all_candidates([im.shape[:2] for im in images], "image", 32)
    first = np.random.default_rng([data_seed, seed, 0]).choice(len(tasks), counts[0], replace=False)
    labeled = [int(t) for t in first]
    out = [sorted(labeled)]
    for r in range(1, len(counts)):
        rng = np.random.default_rng([data_seed, seed, r, zlib.crc32(strategy.encode())])
        unlabeled = [t for t in range(len(tasks)) if t not in set(labeled)]
        picked, _ = acquire(strategy, tasks, unlabeled, sorted(labeled), cast(Any, None), images,
                            counts[r] - counts[r - 1], rng, AcquireConfig())
        labeled += picked
        out.append(sorted(labeled))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--pool", type=int, default=150)
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--initial", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--growth", type=float, default=3.0)
    ap.add_argument("--budget", type=float, default=0.35)
    args = ap.parse_args()
    pool = generate_pool(args.pool, seed=1000, size=args.size, redundancy="high", archive_seed=0)
    styles, wells = pool.style_ids, pool.well_ids
    sizes = np.bincount(styles)
    common = {int(t) for t in np.argsort(-sizes, kind="stable")[:2]}
    cfg = SimConfig(budget=args.budget, growth=args.growth)
    counts = schedule(args.pool, cfg, args.initial, args.batch)
    print(f"pool {args.pool}: {len(set(styles.tolist()))} templates (charts each {sizes[sizes > 0].tolist()}), "
          f"{len(set(wells.tolist()))} wells; labeled per round {counts}")
    table: dict[str, Any] = {}
    for s in STRATEGIES:
        sets = [replay(pool.images, counts, s, seed) for seed in range(args.seeds)]
        rows = []
        for r, n in enumerate(counts):
            tmpl = [len({int(styles[t]) for t in per[r]}) for per in sets]
            well = [len({int(wells[t]) for t in per[r]}) for per in sets]
            on_common = [sum(int(styles[t]) in common for t in per[r]) / n for per in sets]
            rows.append({"labeled": n, "templates": [float(np.mean(tmpl)), min(tmpl), max(tmpl)],
                         "wells": [float(np.mean(well)), min(well), max(well)],
                         "on_two_commonest": float(np.mean(on_common))})
            print(f"{s:>8} {n:3d} labeled: templates {np.mean(tmpl):.1f} [{min(tmpl)}, {max(tmpl)}], wells "
                  f"{np.mean(well):.1f} [{min(well)}, {max(well)}], on the two commonest templates "
                  f"{100 * np.mean(on_common):.0f}%")
        table[s] = rows
    print(json.dumps({"counts": counts, "seeds": args.seeds, "strategies": table}))


if __name__ == "__main__":
    main()
