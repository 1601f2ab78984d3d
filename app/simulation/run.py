"""Label-efficiency simulator: replay ground-truth masks as a perfect annotator and measure how
many labels each acquisition strategy needs to reach 95% of the full-data foreground mIoU.

Method (the measurements behind these choices: bench/README.md):
- Per seed, a random seed set of tasks is labeled (or, with first_batch "centroid", one pool image per
  k-means cluster of the images' embeddings) and the round-0 model trained once; every strategy starts
  from that same model and labeled set.
- Each round, each strategy scores a random subset of the unlabeled pool with the previous
  round's model (head-only MC dropout), labels a batch of tasks through select_batch (batch
  sizes grow geometrically by `growth`), and a new model is trained FROM SCRATCH on one cosine
  schedule with a FIXED number of optimisation steps, the same for every run (equal compute for
  every strategy, round and seed; the reference too). Measured on the well-log charts, the label
  effect at fixed compute is small next to run-to-run noise (fg mIoU 0.42 with 12 charts vs 0.46
  with 100 at 300 steps, +-0.04 between runs), and too few steps starve large labeled sets (120
  steps: 0.30 with 200 charts vs ~0.35 with 32) -- so pick steps that converge the largest labeled
  set you care about (--budget). Alternative (`epochs`): passes over the LABELED PIXELS per run,
  never fewer than `min_steps`; compute then grows with the labels, so curves mix the effect of
  labels with that of compute (the same for every strategy at the same labeled fraction).
  The training seed depends on (seed, round) only, so strategies differ only in their labels.
- Region units train on each labeled tile with tile/2 px of context (unlabeled = 255), image
  units on random crops of the labeled images: a step costs the same for both.
- Class weights come from the labeled pixels only (train_segmenter does this).
- The full-data reference is the same recipe on every pool label, trained once per seed and
  averaged (one run is as noisy as a curve point), then cached (DIR/reference.json and, with
  cache_dir, under a key of the data and the recipe); region units train it on every tile in its
  context window, as their rounds do, and the final, whole-pool round reuses those models.
- Without `rounds`, the run stops after the round in which every strategy's mean curve (random's
  too) has reached the target, or when the budget or the pool runs out.
- Curves are averaged over seeds per round; labels_to_target is where the MEAN curve first
  reaches target * full-data miou_fg, linearly interpolated between the two rounds around the
  crossing (the round-0 fraction if round 0 is already there; null if never). Its spread is
  [min, max] of the same figure per seed (max null when some seed never got there).
- A strategy is called better than random only when its whole per-seed range lies below
  random's (the gap exceeds the seed-to-seed spread).
- A full-data reference under `min_reference` fg mIoU is refused (ReferenceTooWeakError, exit 3):
  95% of almost nothing is reached by any seed set, so no ratio is reported against it.
- Each round records the annotator's `effort` (app.simulation.effort): the tasks it labeled, each
  costed as the correction of the previous round's model's suggestion (round 0: by hand).
- Levers (app.simulation.levers): `redundancy` draws the charts from a redundant archive; `pretrain`
  starts every run of a seed (reference included) from one denoising-pretrained trunk learned on that
  seed's pool images, with the same fine-tuning steps as ever; `pseudo_labels` adds, from round 1 on,
  the previous round's model's confident pixels of the wholly unlabeled pool images to the run's samples
  (the same model the strategy scored with, so each strategy has its own).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from app.learning.metrics import mean_or_none
from app.simulation.acquire import STRATEGIES, AcquireConfig, acquire
from app.simulation.config import (
    ReferenceTooWeakError,
    SimConfig,
    SimulationInputError,
    check_config,
    check_out,
    schedule,
)
from app.simulation.data import SimData, load_data
from app.simulation.effort import accumulate, tasks_effort
from app.simulation.levers import centroid_seed_set, mix_samples, pretrained_start, pseudo_samples
from app.simulation.results import assemble, summarize_round
from app.simulation.tasks import LabelState, all_candidates, evaluate, planned_steps, train_round

__all__ = ["SimConfig", "SimulationInputError", "ReferenceTooWeakError", "run_simulation", "check_config",
           "check_reference"]

# progress(message, total training runs, None when a step starts | the run's metrics when it ends)
ProgressFn = Callable[[str, int, dict[str, Any] | None], None]


def _data_digest(data: SimData) -> str:
    h = hashlib.sha256()
    for arr in (*data.pool_images, *data.pool_masks, *data.test_images, *data.test_masks):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


class SimRun:
    """Mutable bookkeeping of one simulation (timings for the cost estimate, progress), with its seed set and
    train-and-evaluate step; public because benchmarks (bench/first_batch_round0.py) reuse those."""

    def __init__(self, cfg: SimConfig, data: SimData, on_step: ProgressFn) -> None:
        self.cfg, self.data, self._on_step = cfg, data, on_step
        self.total_runs = 0
        self.current = ""
        self.timing = {"train_seconds": 0.0, "train_steps": 0, "train_runs": 0, "score_seconds": 0.0,
                       "score_images": 0, "score_calls": 0, "eval_seconds": 0.0, "eval_images": 0}
        self.starts: dict[int, Any] = {}  # seed -> pretrained model every run of that seed starts from
        self.levers: dict[str, Any] = {}
        self.warnings: list[str] = []

    def pretrain(self) -> None:
        """One pretrained trunk per seed, on the pool's images (never its labels)."""
        cfg, d = self.cfg, self.data
        infos = []
        for seed in cfg.seed_ids():
            self.on_step(f"pretraining the trunk  seed {seed + 1}/{cfg.first_seed + cfg.seeds}")
            model, info = pretrained_start(d.pool_images, d.num_classes, steps=cfg.pretrain_steps,
                                           base_channels=cfg.base_channels, crop=cfg.crop, seed=seed)
            self.timing["pretrain_seconds"] = self.timing.get("pretrain_seconds", 0.0) + info["seconds"]
            if model is None:
                self.warnings.append(f"--pretrain: {info['fallback']}; every run trained end to end")
                self.levers["pretrain"] = [info]
                return
            self.starts[seed] = model
            infos.append(info)
        self.levers["pretrain"] = infos

    def seed_set(self, seed: int, n_tasks: int, count: int) -> list[int]:
        """Round 0's task ids: a random draw (as ever), or with --first-batch centroid the centroid picks
        of the pool images (image units: task i is image i), embedded by seed `seed`'s pretrained trunk if any."""
        cfg = self.cfg
        if cfg.first_batch == "random":
            rng = np.random.default_rng([cfg.data_seed, seed, 0])
            return [int(t) for t in rng.choice(n_tasks, size=count, replace=False)]
        picks, info = centroid_seed_set(self.data.pool_images, count, seed=[cfg.data_seed, seed, 0],
                                        trunk=self.starts.get(seed), device=cfg.device)
        self.levers.setdefault("first_batch", []).append(info)
        return picks

    def train_eval(self, images: list[np.ndarray], masks: list[np.ndarray], seed: int,
                   start: int | None = None) -> tuple[Any, dict[str, Any]]:
        """Train (from seed `start`'s pretrained trunk, if any) and evaluate on the test split."""
        cfg, d = self.cfg, self.data
        steps = planned_steps(masks, steps=cfg.steps, epochs=cfg.epochs, min_steps=cfg.min_steps,
                              batch_size=cfg.train_batch, crop=cfg.crop)
        model, hist = train_round(images, masks, d.num_classes, steps=steps, batch_size=cfg.train_batch, lr=cfg.lr,
                                  crop=cfg.crop, seed=seed, device=cfg.device, base_channels=cfg.base_channels,
                                  val_images=d.val_images, val_masks=d.val_masks, eval_every=cfg.eval_every,
                                  patience=cfg.patience, max_seconds=cfg.max_seconds,
                                  initial_model=None if start is None else self.starts.get(start))
        self.timing["train_seconds"] += hist["seconds"]
        self.timing["train_steps"] += hist["steps"]
        self.timing["train_runs"] += 1
        t0 = time.perf_counter()
        metrics = evaluate(model, d.test_images, d.test_masks, d.classes, device=cfg.device,
                           val_images=d.val_images, val_masks=d.val_masks, decision_bias=cfg.decision_bias)
        self.timing["eval_seconds"] += time.perf_counter() - t0
        self.timing["eval_images"] += len(d.test_images)
        metrics.update(steps=hist["steps"], train_seconds=round(hist["seconds"], 3))
        metrics["class_weights"] = hist["class_weights"]  # from the labeled pixels only
        if "stopped_by" in hist:
            metrics.update(stopped_by=hist["stopped_by"], best_step=hist["best_step"])
        self.report(metrics)
        return model, metrics

    def report(self, metrics: dict[str, Any]) -> None:
        self._on_step(self.current, self.total_runs, metrics)

    def on_step(self, message: str) -> None:
        """Announce the training run about to start; train_eval reports its result."""
        self.current = message
        self._on_step(message, self.total_runs, None)


def _cached_reference(paths: list[Path], key: str) -> dict[str, Any] | None:
    for path in paths:
        try:
            cached = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(cached, dict) and cached.get("key") == key and "miou_fg" in cached:
            return {**cached, "cached": True}
    return None


def _reference(run: SimRun, cached: dict[str, Any] | None, cache_dir: Path | None, key: str,
               tasks: list[Any], final_round: int) -> tuple[dict[str, Any], dict[int, tuple[Any, dict[str, Any]]]]:
    """The same recipe on every pool label, once per seed, averaged (or the cached result for `key`).

    One run is as noisy as the curves (+-0.04 fg mIoU at 150 steps), so the target is the mean over
    the seeds. "The same recipe" includes the unit's samples: region runs train on tiles in their
    context windows, and whole images gave a reference they could not reach with every tile labeled
    (fg mIoU 0.533 against 0.508 at 1000 steps), so the region reference is every tile, the region
    way. Seed s trains with the training seed of the final round, so that round's whole-pool models
    are these very models (returned, to be reused, not retrained).
    """
    if cached is not None:
        return cached, {}
    d, cfg = run.data, run.cfg
    everything = LabelState(d.pool_masks, tasks)
    everything.label(list(range(len(tasks))))
    xs, ys = everything.training_samples(d.pool_images, cfg.unit, cfg.tile // 2)
    models: dict[int, tuple[Any, dict[str, Any]]] = {}
    for seed in cfg.seed_ids():
        run.on_step(f"full-data reference  seed {seed + 1}/{cfg.first_seed + cfg.seeds}")
        models[seed] = run.train_eval(xs, ys, seed=10_000 * seed + final_round, start=seed)
    runs = [m for _, m in models.values()]
    ref: dict[str, Any] = {
        "miou_fg": mean_or_none([m["miou_fg"] for m in runs]),
        "per_class_iou": {c: mean_or_none([m["per_class_iou"][c] for m in runs]) for c in d.classes},
        "ece": mean_or_none([m["ece"] for m in runs]),
        "miou_fg_per_seed": [m["miou_fg"] for m in runs],
        "steps": runs[0]["steps"], "train_seconds": sum(m["train_seconds"] for m in runs), "key": key, "cached": False}
    if all("ece_calibrated" in m for m in runs):
        ref["ece_calibrated"] = mean_or_none([m["ece_calibrated"] for m in runs])
    if all("miou_fg_raw" in m for m in runs):
        ref["miou_fg_raw"] = mean_or_none([m["miou_fg_raw"] for m in runs])
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / f"reference-{key}.json").write_text(json.dumps(ref, indent=1))
    return ref, models


def check_reference(reference: dict[str, Any], floor: float) -> None:
    """Refuse (ReferenceTooWeakError) when the full-data model itself is near zero: its 95% is reached
    by any seed set, so every strategy would be reported "at the target" and the ratios mean nothing."""
    miou = reference.get("miou_fg")
    if miou is not None and miou >= floor:
        return
    seeds = ", ".join("-" if v is None else f"{v:.3f}" for v in reference.get("miou_fg_per_seed") or [])
    shown = "none" if miou is None else f"{miou:.3f}"
    raise ReferenceTooWeakError(
        f"the full-data reference reached foreground mIoU {shown} (per seed: {seeds or '-'}), under "
        f"--min-reference {floor:g}: the model learned almost nothing even from every label, so no ratio is "
        "reported; train longer (--steps, --epochs), try another --lr, or check the masks")


def _plan(cfg: SimConfig, data: SimData) -> tuple[list[Any], int, list[int]]:
    """-> (pool tasks, first batch, cumulative labeled tasks per round)."""
    tasks = all_candidates([m.shape for m in data.pool_masks], cfg.unit, cfg.tile)
    if cfg.unit == "image":
        default_batch = max(2, round(0.02 * len(data.pool_masks)))
    else:
        default_batch = max(4, round(0.01 * len(tasks)))
    batch = cfg.batch or default_batch
    return tasks, batch, schedule(len(tasks), cfg, cfg.initial or batch, batch)


def _simulate(run: SimRun, reference: dict[str, Any], tasks: list[Any], batch: int, counts: list[int],
              full_models: dict[int, tuple[Any, dict[str, Any]]]) -> dict[str, Any]:
    cfg, d = run.cfg, run.data
    acfg = AcquireConfig(score_subset=cfg.score_subset, mc_samples=cfg.mc_samples, steered_share=cfg.steered_share,
                         region_embeddings=cfg.region_embeddings, device=cfg.device)
    margin = cfg.tile // 2
    target_value = None if reference["miou_fg"] is None else cfg.target * reference["miou_fg"]
    per_seed: dict[str, list[list[dict[str, Any]]]] = {s: [] for s in cfg.strategies}
    states: dict[tuple[str, int], tuple[LabelState, Any]] = {}
    for seed in cfg.seed_ids():
        state = LabelState(d.pool_masks, tasks)
        state.label(run.seed_set(seed, len(tasks), counts[0]))
        run.on_step(f"round 0 (seed set)  seed {seed + 1}/{cfg.first_seed + cfg.seeds}  {state.fraction:.1%} labeled")
        xs, ys = state.training_samples(d.pool_images, cfg.unit, margin)
        model, metrics = run.train_eval(xs, ys, seed=10_000 * seed, start=seed)
        hand = tasks_effort(tasks, state.order, d.pool_images, d.pool_masks, None)  # no model yet: by hand
        record = {"labeled_fraction": state.fraction, "labeled_tasks": len(state.labeled), **metrics,
                  "effort": accumulate(None, hand)}
        for s in cfg.strategies:
            per_seed[s].append([dict(record)])
            states[(s, seed)] = (state.copy(), model)
    rounds_done = 0
    for r in range(1, len(counts)):
        same_labels: dict[tuple[int, tuple[int, ...]], tuple[Any, dict[str, Any]]] = {}
        if r == len(counts) - 1:  # the reference models: whole pool, this round's training seeds
            same_labels.update({(seed, tuple(range(len(tasks)))): mm for seed, mm in full_models.items()})
        for seed in cfg.seed_ids():
            for s in cfg.strategies:
                run.on_step(f"round {r}/{len(counts) - 1}  {s}  seed {seed + 1}/{cfg.first_seed + cfg.seeds}  scoring")
                state, model = states[(s, seed)]
                rng = np.random.default_rng([cfg.data_seed, seed, r, zlib.crc32(s.encode())])
                t0 = time.perf_counter()
                prev = per_seed[s][seed - cfg.first_seed][-1]
                picked, scored = acquire(s, tasks, state.unlabeled(), sorted(state.labeled), model,
                                         d.pool_images, counts[r] - counts[r - 1], rng, acfg,
                                         class_weights=np.asarray(prev["class_weights"], np.float32))
                run.timing["score_seconds"] += time.perf_counter() - t0 if scored else 0.0
                run.timing["score_images"] += scored
                run.timing["score_calls"] += 1 if scored else 0
                # the annotator corrects the previous round's model on exactly these tasks
                effort = accumulate(prev.get("effort"), tasks_effort(tasks, picked, d.pool_images, d.pool_masks,
                                                                     model, device=cfg.device))
                state.label(picked)
                run.on_step(f"round {r}/{len(counts) - 1}  {s}  seed {seed + 1}/{cfg.first_seed + cfg.seeds}  "
                            f"{state.fraction:.1%} labeled")
                pseudo, extra = _pseudo(run, state, model, prev)
                key = (seed, tuple(sorted(state.labeled)))
                if key in same_labels and not pseudo[0]:  # e.g. the whole pool: same labels + seed = same model
                    model, metrics = same_labels[key]
                    run.report(metrics)
                else:
                    xs, ys = mix_samples(state.training_samples(d.pool_images, cfg.unit, margin), pseudo)
                    model, metrics = run.train_eval(xs, ys, seed=10_000 * seed + r, start=seed)
                    if not pseudo[0]:
                        same_labels[key] = (model, metrics)
                states[(s, seed)] = (state, model)
                per_seed[s][seed - cfg.first_seed].append({
                    "labeled_fraction": state.fraction, "labeled_tasks": len(state.labeled), "scored_images": scored,
                    **metrics, "effort": effort, **extra})
        rounds_done = r
        # without --rounds, stop once every mean curve (random's too) is at the target: the ratios are
        # measured; with --rounds the caller asked for those rounds (the pool and budget permitting)
        if cfg.rounds is None and target_value and all(
                summarize_round(per_seed[s], target_value)["reached"] for s in cfg.strategies):
            break
    return {"per_seed": per_seed, "counts": counts[:rounds_done + 1], "planned_counts": counts,
            "batch": batch, "n_tasks": len(tasks), "stopped_early": rounds_done < len(counts) - 1}


def _pseudo(run: SimRun, state: LabelState, model: Any,
            prev: dict[str, Any]) -> tuple[tuple[list[np.ndarray], list[np.ndarray]], dict[str, Any]]:
    """With --pseudo-labels: the previous round's model's confident pixels of the pool images no task has
    touched yet -> ((images, masks), {"pseudo": info}); otherwise nothing."""
    cfg, d = run.cfg, run.data
    if cfg.pseudo_labels is None:
        return ([], []), {}
    t0 = time.perf_counter()
    untouched = [i for i, rev in enumerate(state.revealed) if not rev.any()]
    xs, ys, info = pseudo_samples(model, float(prev.get("temperature") or 1.0), cfg.pseudo_labels,
                                  [d.pool_images[i] for i in untouched], [d.pool_masks[i] for i in untouched],
                                  d.val_images, d.val_masks, device=cfg.device,
                                  background_share=cfg.pseudo_background, per_class=cfg.pseudo_per_class,
                                  seed=len(state.labeled))
    run.timing["pseudo_seconds"] = run.timing.get("pseudo_seconds", 0.0) + time.perf_counter() - t0
    return (xs, ys), {"pseudo": info}


def run_simulation(cfg: SimConfig, out: str | Path, *, force: bool = False, cache_dir: str | Path | None = None,
                   on_step: ProgressFn | None = None, plot: bool = True) -> dict[str, Any]:
    """Validate everything, simulate, write DIR/results.json (+ curves.png) atomically -> results.

    Bad options or data raise SimulationInputError before any training and before DIR exists.
    Output is written into a temporary folder beside DIR and renamed at the end, so DIR never
    holds half a run (an existing DIR is replaced only with force=True).
    """
    check_config(cfg, STRATEGIES)
    out = Path(out)
    check_out(out, force)
    data = load_data(cfg.data, pool=cfg.pool, test=cfg.test, val=cfg.val, size=cfg.size, seed=cfg.data_seed,
                     redundancy=cfg.redundancy)
    if cfg.unit == "region" and max(max(m.shape) for m in data.pool_masks) <= cfg.tile:
        raise SimulationInputError(f"--tile {cfg.tile} is not smaller than the images: use --unit image")
    started = time.perf_counter()
    run = SimRun(cfg, data, on_step or (lambda _msg, _total, _result: None))
    tasks, batch, counts = _plan(cfg, data)
    key_src = {k: v for k, v in cfg.to_dict().items()
               if k in ("size", "pool", "steps", "epochs", "min_steps", "train_batch", "lr", "crop", "device",
                        "data_seed", "base_channels", "seeds")}
    if cfg.eval_every:  # only when set, so references cached before the option stay valid
        key_src.update(eval_every=cfg.eval_every, patience=cfg.patience, max_seconds=cfg.max_seconds)
    if cfg.first_seed:  # only when set, so references cached before the option stay valid
        key_src["first_seed"] = cfg.first_seed
    key_src["final_round"] = len(counts) - 1  # the reference's training seeds depend on it
    if cfg.decision_bias:  # only when set, so references cached before the option stay valid
        key_src["decision_bias"] = True
    if cfg.unit == "region":  # trained on tiles in their windows (see _reference)
        key_src["region_tile"] = cfg.tile
    if cfg.pretrain:  # only when set, so references cached before the option stay valid
        key_src.update(pretrain=True, pretrain_steps=cfg.pretrain_steps)
    key = hashlib.sha256(json.dumps([key_src, _data_digest(data)], sort_keys=True).encode()).hexdigest()[:16]
    cache = Path(cache_dir) if cache_dir else None
    cached = _cached_reference(([cache / f"reference-{key}.json"] if cache else []) + [out / "reference.json"], key)
    run.total_runs = cfg.seeds * ((0 if cached else 1) + 1 + (len(counts) - 1) * len(cfg.strategies))
    if cfg.pretrain:
        run.pretrain()
    reference, full_models = _reference(run, cached, cache, key, tasks, final_round=len(counts) - 1)
    check_reference(reference, cfg.min_reference)
    sim = _simulate(run, reference, tasks, batch, counts, full_models)
    results = assemble(cfg.to_dict(), data.classes, reference, sim, cfg.target, cfg.strategies)
    results["warnings"] = results.get("warnings", []) + run.warnings
    if run.levers:
        results["levers"] = run.levers
    results["timing"] = {**{k: round(v, 3) if isinstance(v, float) else v for k, v in run.timing.items()},
                         "total_seconds": round(time.perf_counter() - started, 3)}
    results["data"] = {"source": data.source, "pool_images": len(data.pool_masks), "test_images": len(data.test_masks),
                       "val_images": len(data.val_masks), "pool_pixels": data.pool_pixels()}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        (tmp / "results.json").write_text(json.dumps(results, indent=1))
        (tmp / "reference.json").write_text(json.dumps(reference, indent=1))
        if plot:
            from app.simulation.report import plot_curves

            plot_curves(results, tmp / "curves.png")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return results


def with_overrides(cfg: SimConfig, **kw: Any) -> SimConfig:
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})
