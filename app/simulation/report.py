"""What a simulation shows a person: curves.png, the summary table and a cost estimate."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["plot_curves", "summary_table", "estimate_seconds", "estimate_table"]

_COLOURS = {"random": "#555555", "entropy": "#1f77b4", "bald": "#d62728", "hybrid": "#2ca02c",
            "margin": "#9467bd", "least_confidence": "#8c564b", "coreset": "#e377c2"}
_EXTRA = ["#ff7f0e", "#17becf", "#bcbd22", "#7f7f7f"]


def _colour(name: str, i: int) -> str:
    return _COLOURS.get(name, _EXTRA[i % len(_EXTRA)])


def plot_curves(results: dict[str, Any], path: str | Path) -> None:
    """Foreground mIoU and each foreground class's IoU against the labeled pixel fraction:
    mean over seeds (line), min-max over seeds (band), target = share of full data (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = results["classes"]
    panels = [("foreground mIoU", None)] + [(f"IoU {c}", c) for c in classes[1:]]
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    share = results["target"]["fraction_of_full_data"]
    full = results["full_data"]
    handles = []
    for k, (title, cls) in enumerate(panels):
        ax = axes[k // cols][k % cols]
        ref = full["miou_fg"] if cls is None else full["per_class_iou"].get(cls)
        top = ref or 0.0
        for i, (name, strat) in enumerate(results["strategies"].items()):
            rounds = strat["rounds"]
            x = [100 * r["labeled_fraction"] for r in rounds]
            if cls is None:
                y, lo, hi = ([r[key] for r in rounds] for key in ("miou_fg", "miou_fg_min", "miou_fg_max"))
            else:
                y, lo, hi = ([r[key][cls] for r in rounds]
                             for key in ("per_class_iou", "per_class_iou_min", "per_class_iou_max"))
            y, lo, hi = ([math.nan if v is None else v for v in seq] for seq in (y, lo, hi))
            top = max([top] + [v for v in hi if not math.isnan(v)])
            colour = _colour(name, i)
            ltt = results["labels_to_target"].get(name)
            (line,) = ax.plot(x, y, "-o", color=colour, lw=2, ms=4,
                              label=f"{name}: " + ("never reaches the target" if ltt is None
                                                   else f"target at {100 * ltt:.1f}% of pixels"))
            ax.fill_between(x, lo, hi, color=colour, alpha=0.15, lw=0)
            if cls is None:
                handles.append(line)
                if ltt is not None:
                    ax.axvline(100 * ltt, color=colour, ls=":", lw=1.3)
        if ref is not None:
            ax.axhline(ref, color="black", lw=1, alpha=0.4)
            ax.axhline(share * ref, color="black", ls="--", lw=1.3)
            ax.annotate(f"{share:.0%} of full data ({share * ref:.3f})", (0.01, share * ref),
                        xycoords=("axes fraction", "data"), fontsize=8, va="top", xytext=(2, -3),
                        textcoords="offset points")
            ax.annotate(f"full data {ref:.3f}", (0.01, ref), xycoords=("axes fraction", "data"), fontsize=8,
                        va="bottom", alpha=0.7, xytext=(2, 2), textcoords="offset points")
        ax.set_title(title, fontsize=11, fontweight="bold" if cls is None else "normal")
        ax.set_xlabel("labeled pixels (% of pool)")
        ax.set_ylabel("IoU on the test split")
        ax.set_ylim(0, min(1.0, max(0.1, top * 1.15)))
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    for k in range(len(panels), rows * cols):
        axes[k // cols][k % cols].axis("off")
    cfg = results["config"]
    recipe = (f"{cfg['steps']} steps" if cfg["steps"] else
              f"{cfg['epochs']:g} passes over the labels (>= {cfg['min_steps']} steps)")
    unit = f"region units ({cfg['tile']} px tiles)" if cfg["unit"] == "region" else "image units"
    fig.suptitle(f"Label efficiency on {cfg['data']}, {unit}: {cfg['seeds']} seeds (line = mean, band = min-max "
                 f"over seeds), each round trained from scratch for {recipe}; dotted = where the mean curve "
                 f"reaches the dashed target", fontsize=10)
    fig.legend(handles=handles, loc="upper center", ncol=min(4, len(handles)), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, 0.94))
    fig.tight_layout(rect=(0, 0, 1, 0.88))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pct(v: float | None) -> str:
    return "never" if v is None else f"{100 * v:.1f}%"


def summary_table(results: dict[str, Any]) -> Any:
    """A rich Table: strategy, labels-to-target (mean curve) and seed spread, ratio, verdict."""
    from rich.table import Table

    t = Table(title=f"Labels to reach {results['target']['fraction_of_full_data']:.0%} of full-data foreground "
                    f"mIoU ({_fmt(results['full_data']['miou_fg'])} -> target "
                    f"{_fmt(results['target']['miou_fg'])})")
    for col in ("strategy", "labels to target", "seed spread", "ratio to random", "final mIoU", "verdict"):
        t.add_column(col)
    for name, strat in results["strategies"].items():
        spread = results["labels_to_target_spread"][name]
        ratio = results.get("ratio_to_random", {}).get(name)
        bound = results.get("ratio_to_random_upper_bound", {}).get(name)
        ratio_s = f"{ratio:.2f}" if ratio is not None else (f"<= {bound:.2f}" if bound is not None else "-")
        spread_s = "-" if spread is None else f"{_pct(spread[0])} .. {_pct(spread[1])}"
        last = strat["rounds"][-1]
        v = "reference" if name == "random" else results.get("verdict", {}).get(name, "-")
        t.add_row(name, _pct(results["labels_to_target"][name]), spread_s, ratio_s,
                  f"{_fmt(last['miou_fg'])} at {_pct(last['labeled_fraction'])}", v)
    return t


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def estimate_seconds(results: dict[str, Any], **changes: Any) -> float:
    """Seconds a run would take with `changes` (seeds, strategies, pool, rounds, steps, test),
    from this run's measured seconds per training step, per scored and per evaluated image."""
    tm, cfg = results["timing"], results["config"]
    per_step = tm["train_seconds"] / max(tm["train_steps"], 1)
    per_score = tm["score_seconds"] / tm["score_images"] if tm["score_images"] else 0.02
    per_eval = tm["eval_seconds"] / max(tm["eval_images"], 1)
    seeds = changes.get("seeds", cfg["seeds"])
    strategies = changes.get("strategies", len(cfg["strategies"]))
    scorers = strategies - (1 if "random" in cfg["strategies"] else 0)
    rounds = changes.get("rounds", len(results["schedule"]["labeled_tasks_per_round"]) - 1)
    steps = changes.get("steps", tm["train_steps"] / max(tm["train_runs"], 1))
    test = changes.get("test", results["data"]["test_images"])
    pool_scale = changes.get("pool", results["data"]["pool_images"]) / max(results["data"]["pool_images"], 1)
    if not changes:  # a re-run: the runs this one trained (whole-pool rounds reuse the reference)
        runs = tm["train_runs"]
    else:  # reference and round 0 per seed, then every strategy every round (an upper bound)
        runs = seeds * (2 + rounds * strategies)
    per_call = tm["score_images"] / tm["score_calls"] if tm["score_calls"] else cfg["score_subset"] or 64
    if not cfg["score_subset"]:
        per_call *= pool_scale
    return runs * (steps * per_step + test * per_eval) + seeds * rounds * scorers * per_call * per_score


def tm_steps(results: dict[str, Any]) -> float:
    tm = results["timing"]
    return tm["train_steps"] / max(tm["train_runs"], 1)


def estimate_table(results: dict[str, Any]) -> list[tuple[str, float]]:
    cfg, n = results["config"], results["data"]["pool_images"]
    rounds = len(results["schedule"]["labeled_tasks_per_round"]) - 1
    return [
        ("this configuration (re-run)", estimate_seconds(results)),
        (f"--seeds {max(5, cfg['seeds'])}", estimate_seconds(results, seeds=max(5, cfg["seeds"]))),
        (f"--pool {2 * n} (one more round)", estimate_seconds(results, pool=2 * n, rounds=rounds + 1)),
        ("--strategies random,entropy,bald,hybrid", estimate_seconds(results, strategies=4)),
        ("twice the training steps", estimate_seconds(results, steps=2 * tm_steps(results))),
    ]
