"""Tables for bench/README from label-efficiency runs' results.json (issue 11, branch centroid).

    .venv/bin/python bench/first_batch_table.py NAME=DIR/results.json [NAME=DIR/results.json ...]

Per run: the full-data reference; per strategy the labels to target (mean curve, [min, max] per seed, per
seed); per round the mean fg mIoU [min, max]; the worst ECE after scaling in the last round; and the distinct
templates (`ChartPool.style_ids`) in each seed's seed set, from the centroid picks (results "levers") or the
random draw the simulator makes (rng([data_seed, seed, 0])). Regenerates the pool from the run's config.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from app.learning.welllog_pool import generate_pool  # noqa: E402


def _pct(v: float | None) -> str:
    return "never" if v is None else f"{100 * v:.1f}"


def seed_set_templates(res: dict[str, Any]) -> list[int]:
    cfg = res["config"]
    pool = generate_pool(cfg["pool"], seed=1000 + cfg["data_seed"], size=cfg["size"], redundancy=cfg["redundancy"],
                         archive_seed=cfg["data_seed"])
    first = res["strategies"][cfg["strategies"][0]]["seeds"][0][0]["labeled_tasks"]
    if "first_batch" in res.get("levers", {}):
        sets = [info["picks"] for info in res["levers"]["first_batch"]]
    else:
        sets = [np.random.default_rng([cfg["data_seed"], s, 0]).choice(cfg["pool"], size=first, replace=False)
                for s in range(cfg["seeds"])]
    return [len(set(pool.style_ids[list(s)].tolist())) for s in sets]


def report(name: str, res: dict[str, Any]) -> None:
    full = res["full_data"]
    per_seed_ref = ", ".join(f"{v:.3f}" for v in full["miou_fg_per_seed"])
    print(f"## {name}: full data {full['miou_fg']:.3f} ({per_seed_ref}); target {res['target']['miou_fg']:.3f}; "
          f"seed-set templates per seed {seed_set_templates(res)}; {res['timing']['total_seconds']:.0f} s")
    ltt, spread, per = res["labels_to_target"], res["labels_to_target_spread"], res["labels_to_target_per_seed"]
    for s in res["strategies"]:
        lo, hi = spread[s] if spread.get(s) else (None, None)
        seeds = ", ".join(_pct(v) for v in per[s])
        print(f"  {s}: {_pct(ltt[s])}% [{_pct(lo)}, {_pct(hi)}]: {seeds}")
    rnd = ltt.get("random")
    for s in res["strategies"]:
        if s != "random" and ltt.get(s) is not None and rnd:
            print(f"  {s} / random = {ltt[s] / rnd:.2f}")
    print("  mean fg mIoU [min, max] per round:")
    strategies = list(res["strategies"])
    for i, first in enumerate(res["strategies"][strategies[0]]["rounds"]):
        cells = []
        for s in strategies:
            rounds = res["strategies"][s]["rounds"]
            if i < len(rounds):
                r = rounds[i]
                cells.append(f"{s} {r['miou_fg']:.3f} [{r['miou_fg_min']:.3f}, {r['miou_fg_max']:.3f}]")
        print(f"    {100 * first['labeled_fraction']:.1f}%: " + "; ".join(cells))
    last = [res["strategies"][s]["rounds"][-1].get("ece_calibrated") for s in strategies]
    print(f"  ECE after scaling, last round, worst: {max(v for v in last if v is not None):.2%}")


def main() -> None:
    for arg in sys.argv[1:]:
        name, _, path = arg.partition("=")
        report(name, json.loads(Path(path).read_text()))


if __name__ == "__main__":
    main()
