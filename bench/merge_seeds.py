"""Join `labelwise simulate` runs of one recipe over disjoint seeds (`--first-seed`) and print the figures.

    .venv/bin/python bench/merge_seeds.py A/results.json B/results.json [--out merged.json]

Prints, per strategy: labels to target (share of the pool where the mean curve over every seed reaches
95% of the mean full-data fg mIoU), its [min, max] over the seeds and the per-seed figures; per other
strategy its ratio to random, the simulator's verdict and on how many paired seeds it got there earlier
than random; mean fg mIoU [min, max] per round, and per round the paired difference to random (same seed);
the ECE after temperature scaling of the last round.
The last line is JSON with the same figures. A single results.json is summarised as it is.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.simulation.merge import merge_results  # noqa: E402


def _pct(v: float | None) -> str:
    return "never" if v is None else f"{100 * v:.1f}"


def paired(per_seed: list[float | None], random: list[float | None]) -> dict[str, int]:
    """Seeds where the strategy reached the target earlier / later / at the same share as random
    (a seed that never reached counts as later than any that did)."""
    inf = float("inf")
    out = {"earlier": 0, "later": 0, "same": 0}
    for a, b in zip(per_seed, random, strict=True):
        a_, b_ = inf if a is None else a, inf if b is None else b
        out["earlier" if a_ < b_ else "later" if a_ > b_ else "same"] += 1
    return out


def paired_rounds(results: dict[str, Any], strategy: str) -> list[dict[str, float]]:
    """Per round: the strategy's fg mIoU minus random's on the same seed, mean [min, max], and the seeds ahead."""
    a, b = (results["strategies"][s]["seeds"] for s in (strategy, "random"))
    rows = []
    for r in range(min(len(x) for x in (*a, *b))):
        diffs = [x[r]["miou_fg"] - y[r]["miou_fg"] for x, y in zip(a, b, strict=True)]
        rows.append({"share": a[0][r]["labeled_fraction"], "mean": float(sum(diffs) / len(diffs)),
                     "min": min(diffs), "max": max(diffs), "ahead": sum(d > 0 for d in diffs)})
    return rows


def figures(results: dict[str, Any]) -> dict[str, Any]:
    per_seed = results["labels_to_target_per_seed"]
    strategies = list(results["strategies"])
    rounds = {s: [{"share": r["labeled_fraction"], "miou_fg": r["miou_fg"], "min": r["miou_fg_min"],
                   "max": r["miou_fg_max"], "ece_calibrated": r.get("ece_calibrated")}
                  for r in results["strategies"][s]["rounds"]] for s in strategies}
    return {"seeds": results["config"]["seeds"], "full_data_miou_fg": results["full_data"]["miou_fg"],
            "full_data_per_seed": results["full_data"]["miou_fg_per_seed"],
            "target_miou_fg": results["target"]["miou_fg"], "labels_to_target": results["labels_to_target"],
            "labels_to_target_spread": results["labels_to_target_spread"], "labels_to_target_per_seed": per_seed,
            "ratio_to_random": results.get("ratio_to_random"), "verdict": results.get("verdict"),
            "paired_vs_random": {s: paired(per_seed[s], per_seed["random"]) for s in strategies
                                 if s != "random" and "random" in per_seed},
            "rounds": rounds,
            "paired_miou_vs_random": {s: paired_rounds(results, s) for s in strategies
                                      if s != "random" and "random" in per_seed}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="results.json of each run")
    ap.add_argument("--out", default=None, help="write the joined results.json here")
    args = ap.parse_args()
    runs = [json.loads(Path(p).read_text()) for p in args.results]
    merged = merge_results(runs)
    if args.out:
        Path(args.out).write_text(json.dumps(merged, indent=1))
    f = figures(merged)
    print(f"{f['seeds']} seeds; full data {f['full_data_miou_fg']:.3f} "
          f"({', '.join(f'{v:.3f}' for v in f['full_data_per_seed'])}); target {f['target_miou_fg']:.3f}")
    for s, ltt in f["labels_to_target"].items():
        spread = f["labels_to_target_spread"][s] or [None, None]
        line = (f"{s}: {_pct(ltt)}% [{_pct(spread[0])}, {_pct(spread[1])}]: "
                f"{', '.join(_pct(v) for v in f['labels_to_target_per_seed'][s])}")
        if s in f["paired_vs_random"]:
            ratio = (f["ratio_to_random"] or {}).get(s)
            line += (f"; / random {'-' if ratio is None else f'{ratio:.2f}'}, {f['verdict'][s]}, earlier on "
                     f"{f['paired_vs_random'][s]['earlier']} of {f['seeds']} paired seeds")
        print(line)
    for s, rows in f["rounds"].items():
        print(f"{s} fg mIoU by share: " + "; ".join(
            f"{100 * r['share']:.1f}% {r['miou_fg']:.3f} [{r['min']:.3f}, {r['max']:.3f}]" for r in rows)
            + (f"; ECE after scaling, last round {100 * rows[-1]['ece_calibrated']:.2f}%"
               if rows[-1]["ece_calibrated"] is not None else ""))
    for s, rows in f["paired_miou_vs_random"].items():
        print(f"{s} - random, paired by seed: " + "; ".join(
            f"{100 * r['share']:.1f}% {r['mean']:+.3f} [{r['min']:+.3f}, {r['max']:+.3f}], ahead on {r['ahead']}"
            for r in rows))
    print(json.dumps(f))


if __name__ == "__main__":
    main()
