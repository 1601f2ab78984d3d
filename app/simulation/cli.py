"""`labelwise simulate`: options, progress bar, summary. app/cli.py only wires these in."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from app.simulation.config import (
    FIRST_BATCH_RULES,
    FOLDER_RECIPE,
    REDUNDANCY_LEVELS,
    ReferenceTooWeakError,
    SimConfig,
    SimulationInputError,
    recipe_defaults,
)

__all__ = ["add_arguments", "main"]

_D = SimConfig()


def _fraction(text: str) -> float:
    v = float(text)
    return v / 100 if v > 1 else v  # "10" and "0.1" both mean 10%


def add_arguments(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--data", default="welllog", help="'welllog' (built-in charts) or a folder with images/ and masks/ "
                                         "(+ optional classes.json)")
    a("--strategies", default=",".join(_D.strategies), help="comma-separated; random is the baseline; "
      "typical (TypiClust: dense images of the least-covered clusters) is the simulator's alone, image units only "
      "(default %(default)s)")
    a("--unit", choices=["image", "region"], default=_D.unit, help="a task is a whole image or a square tile")
    a("--tile", type=int, default=_D.tile, help="tile side in px for --unit region (default %(default)s)")
    a("--budget", type=_fraction, default=None, help="largest labeled fraction to spend, 0.25 or 25 (default: until "
                                                     "every strategy, random too, reaches the target, or the pool "
                                                     "is used up)")
    a("--rounds", type=int, default=None, help="acquisition rounds to run (default: until every strategy, "
                                                    "random too, reaches the target, or budget or pool run out)")
    a("--seeds", type=int, default=_D.seeds, help="repeats with different seed sets (default %(default)s)")
    a("--first-seed", type=int, default=_D.first_seed, help="number of the first seed (0-based; default "
      "%(default)s): --seeds 5 --first-seed 5 runs seeds 5-9 alone, to join to a run of seeds 0-4 with "
      "bench/merge_seeds.py")
    a("--initial", type=int, default=None, help="tasks in the random seed set (default: --batch)")
    a("--batch", type=int, default=None, help="tasks acquired in the first round (default: 2%% of the images, "
                                              "or 1%% of the tiles)")
    a("--growth", type=float, default=_D.growth, help="each round acquires this times the previous batch "
                                                      "(default %(default)s; 1 = fixed batch)")
    a("--size", type=int, default=_D.size, help="well-log chart side in px (default %(default)s)")
    a("--pool", type=int, default=None, help="pool images (default: 100 charts, or a folder's rest)")
    a("--test", type=int, default=None, help="held-out test images (default: 40 charts, or 25%% of a folder)")
    a("--val", type=int, default=None, help="calibration images (default: 20 charts, or 10%% of a folder)")
    a("--steps", type=int, default=None, help="optimisation steps of every training run, from scratch on "
                                                 "one cosine schedule: equal compute for every round and strategy "
                                                 f"(default {_D.steps}; on a folder {FOLDER_RECIPE['steps']}, the most "
                                                 "a run may take, see --eval-every)")
    a("--epochs", type=float, default=None, help="instead of --steps: passes over the labeled pixels per run, so "
                                                 "compute grows with the labels (then --min-steps applies)")
    a("--min-steps", type=int, default=_D.min_steps, help="fewest steps of a run with --epochs (default %(default)s)")
    a("--eval-every", type=int, default=None, help="score the validation split every N steps, keep the "
                                                   "best weights and stop when it stops improving "
                                                   "(--steps is then the most a run takes; 0 = fixed steps; default "
                                                   f"{_D.eval_every}, on a folder {FOLDER_RECIPE['eval_every']})")
    a("--patience", type=int, default=None, help="validation scores without gain before a run stops "
                                                 f"(default {_D.patience}, on a folder {FOLDER_RECIPE['patience']})")
    a("--max-seconds", type=float, default=_D.max_seconds, help="wall-time cap of each training run (default: none)")
    a("--train-batch", type=int, default=_D.train_batch, help="training batch size (default %(default)s)")
    a("--base-channels", type=int, default=_D.base_channels, help="U-Net width (default %(default)s: the "
                                                                   "product's model is 16, ~2x the cost)")
    a("--lr", type=float, default=None, help="peak learning rate, cosine to 0 (default "
                                             f"{_D.lr}, on a folder {FOLDER_RECIPE['lr']})")
    a("--crop", type=int, default=None, help="training crop side in px, 0 = none (default "
                                             f"{_D.crop}, on a folder {FOLDER_RECIPE['crop']})")
    a("--score-subset", type=int, default=_D.score_subset, help="unlabeled images scored per round, 0 = all "
                                                                "(default %(default)s)")
    a("--mc-samples", type=int, default=_D.mc_samples, help="MC-dropout samples (default %(default)s)")
    a("--steered-share", type=float, default=_D.steered_share, help="share of each non-random batch drawn "
                                                                    "uniformly from the unlabeled pool, spread "
                                                                    "through the ranking (default %(default)s)")
    a("--decision-bias", action="store_true", help="score the argmax after per-class biases tuned for "
                                                   "foreground mIoU on the validation split")
    a("--region-embeddings", action="store_true", help="region units: hybrid and core-set diversity compares "
                                                       "tiles' own pooled features, not their images'")
    a("--target", type=float, default=_D.target, help="share of full-data foreground mIoU to reach "
                                                      "(default %(default)s)")
    a("--min-reference", type=float, default=_D.min_reference, help="refuse (exit 3) when the full-data "
                                                                     "reference's fg mIoU is under this "
                                                                     "(default %(default)s)")
    a("--redundancy", choices=list(REDUNDANCY_LEVELS), default=_D.redundancy,
      help="well-log charts drawn from an archive of few templates with near-duplicate sections "
           "(app/learning/welllog_pool.py; default %(default)s: independent charts)")
    a("--pretrain", action="store_true", help="start every run from a trunk denoising-pretrained once per seed on the "
                                              "pool's images, then fine-tune for the same --steps")
    a("--pretrain-steps", type=int, default=_D.pretrain_steps, help="pretraining steps per seed "
                                                                    "(default %(default)s)")
    a("--pseudo-labels", type=float, default=None, metavar="BAR",
      help="add the previous round's confident pixels of untouched pool images to each round's training; BAR is "
           "the accuracy the confidence bins must hold on the validation split, e.g. 0.98 (default: off)")
    a("--pseudo-background", type=float, default=None, metavar="SHARE",
      help="class-balanced pseudo-labels: keep at most SHARE background pixels per foreground pixel in each "
           "pseudo-labelled image (0 = foreground only; default: keep all)")
    a("--pseudo-per-class", action="store_true",
      help="with --pseudo-labels: one bar per class, read off the validation pixels predicted as that class "
           "(default: one bar for all pixels)")
    a("--first-batch", choices=list(FIRST_BATCH_RULES), default=_D.first_batch,
      help="the seed set: a random draw, or centroid: one pool image per k-means cluster of the images' "
           "embeddings (the pretrained trunk's with --pretrain, else a thumbnail + colour histogram; image units "
           "only; default %(default)s)")
    a("--device", default=_D.device, help="cpu or cuda (default %(default)s)")
    a("--seed", type=int, default=_D.data_seed, help="data / split seed (default %(default)s)")
    a("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice; 1 can be faster on a "
                                             "busy machine)")
    a("--cache-dir", default=None, help="also cache the full-data reference here, keyed by data and recipe")
    a("--out", required=True, help="output folder (results.json, curves.png)")
    a("--force", action="store_true", help="replace a non-empty --out folder")
    a("--quiet", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """Options not given take the recipe of the data: the charts' or a folder's (config.recipe_defaults)."""
    recipe = recipe_defaults(args.data)
    given = {k: getattr(args, k) for k in recipe if getattr(args, k) is not None}
    r = {**recipe, **given}
    return SimConfig(
        data=args.data, strategies=tuple(s.strip() for s in args.strategies.split(",") if s.strip()),
        unit=args.unit, tile=args.tile, budget=args.budget, rounds=args.rounds, seeds=args.seeds,
        first_seed=args.first_seed, initial=args.initial, batch=args.batch, growth=args.growth, size=args.size,
        pool=args.pool,
        test=args.test, val=args.val, steps=None if args.epochs else r["steps"], epochs=args.epochs,
        min_steps=args.min_steps, eval_every=r["eval_every"], patience=r["patience"], max_seconds=args.max_seconds,
        train_batch=args.train_batch, lr=r["lr"], base_channels=args.base_channels,
        crop=r["crop"] or None, score_subset=args.score_subset, mc_samples=args.mc_samples,
        steered_share=args.steered_share, decision_bias=args.decision_bias,
        region_embeddings=args.region_embeddings, target=args.target, min_reference=args.min_reference,
        device=args.device, data_seed=args.seed, redundancy=args.redundancy, pretrain=args.pretrain,
        pretrain_steps=args.pretrain_steps, pseudo_labels=args.pseudo_labels,
        pseudo_background=args.pseudo_background, pseudo_per_class=args.pseudo_per_class,
        first_batch=args.first_batch)


def run_with_progress(cfg: SimConfig, out: str, *, force: bool = False, cache_dir: str | None = None,
                      quiet: bool = False, console: Any = None) -> dict[str, Any]:
    """run_simulation with a rich progress bar (one tick per training run)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.simulation.run import run_simulation

    console = console or Console()
    if quiet:
        return run_simulation(cfg, out, force=force, cache_dir=cache_dir)
    if not console.is_terminal:  # a log file or pipe: one plain line per training run
        started, done = time.perf_counter(), [0]

        def log_step(message: str, total: int, result: dict[str, Any] | None) -> None:
            if result is None:
                return
            done[0] += 1
            miou = "-" if result["miou_fg"] is None else f"{result['miou_fg']:.3f}"
            if result.get("miou_fg_raw") is not None:  # a partial log still shows both curves
                miou += f" (plain argmax {result['miou_fg_raw']:.3f})"
            console.print(f"[{time.perf_counter() - started:6.0f} s] run {done[0]}/{total}  {message}  "
                          f"-> fg mIoU {miou}  ({result['train_seconds']:.0f} s training)", highlight=False)

        return run_simulation(cfg, out, force=force, cache_dir=cache_dir, on_step=log_step)
    columns = (TextColumn("{task.description:<56}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("loading data", total=None)

        def on_step(message: str, total: int, result: dict[str, Any] | None) -> None:
            progress.update(task, total=total, description=message)
            if result is not None:
                progress.advance(task)

        results = run_simulation(cfg, out, force=force, cache_dir=cache_dir, on_step=on_step)
        progress.update(task, description="done", completed=progress.tasks[0].total or 0)
    return results


def main(args: argparse.Namespace) -> int:
    """The `labelwise simulate` command: exit 2 with one line on stderr for bad input, 3 when the
    full-data reference is too weak to measure against (one line saying why)."""
    from rich.console import Console

    # OpenMP threads that spin at barriers stall badly when other work shares the cores (measured
    # 4x slower steps on a busy 2-core machine); passive waiting costs little on an idle one
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    console = Console(width=None if sys.stdout.isatty() else 140)
    try:
        cfg = config_from_args(args)
        results = run_with_progress(cfg, args.out, force=args.force, cache_dir=args.cache_dir, quiet=args.quiet,
                                    console=console)
    except SimulationInputError as exc:
        print(f"labelwise: {exc}", file=sys.stderr)
        return 2
    except ReferenceTooWeakError as exc:
        print(f"labelwise: refused: {exc}", file=sys.stderr)
        return 3
    print_summary(results, args.out, console)
    return 0


def print_summary(results: dict[str, Any], out: str, console: Any) -> None:
    from app.simulation.report import estimate_table, summary_table

    console.print(summary_table(results))
    console.print("A strategy counts as better than random only where its whole seed range reaches the target "
                  "below random's; otherwise the gap is within seed-to-seed noise.")
    for name, strategy in results["strategies"].items():
        last = strategy["rounds"][-1].get("effort")
        if last:  # the annotator's time: corrections of the suggestions against the same tasks by hand
            console.print(f"effort {name}: {last['seconds'] / 60:.1f} annotator-minutes for {last['tasks']:.0f} "
                          f"tasks ({last['by_hand_seconds'] / 60:.1f} by hand)", highlight=False)
    for warning in results.get("warnings", []):
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    tm = results["timing"]
    console.print(f"ran in {tm['total_seconds']:.0f} s: {tm['train_runs']} training runs, "
                  f"{tm['train_seconds'] / max(tm['train_steps'], 1) * 1000:.0f} ms per step, "
                  f"{tm['score_images']} images scored ({_rate(tm['score_seconds'], tm['score_images'])}), "
                  f"{tm['eval_images']} evaluated ({_rate(tm['eval_seconds'], tm['eval_images'])})", highlight=False)
    console.print("estimated time of larger runs (same machine, from the rates above):")
    for label, seconds in estimate_table(results):
        console.print(f"  {label:<42} ~{seconds / 60:.1f} min", highlight=False)
    console.print(f"wrote {out}/results.json and {out}/curves.png", highlight=False)


def _rate(seconds: float, n: int) -> str:
    return f"{seconds / n * 1000:.0f} ms each" if n else "-"
