"""Options of the label-efficiency simulator and their checks (no torch import: the CLI builds
its parser from these defaults)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["SimConfig", "SimulationInputError", "ReferenceTooWeakError", "FOLDER_RECIPE", "REDUNDANCY_LEVELS",
           "FIRST_BATCH_RULES", "recipe_defaults",
           "check_config", "check_out", "schedule"]


class SimulationInputError(ValueError):
    """Bad simulator input (data folder or options); the message names the file or option."""


class ReferenceTooWeakError(RuntimeError):
    """The full-data reference learned (almost) nothing: ratios against it would be noise.

    Raised after the reference is trained and before any strategy runs; the CLI exits 3 with the
    message on one line (2 stays "bad input")."""


@dataclass(frozen=True)
class SimConfig:
    data: str = "welllog"
    strategies: tuple[str, ...] = ("random", "hybrid")
    unit: str = "image"  # "image" or "region"
    tile: int = 32  # region side in px (region units)
    budget: float | None = None  # largest labeled fraction; None = until every strategy reaches the target
    rounds: int | None = None  # rounds to run; None = until all reach the target (or budget/pool end)
    seeds: int = 2
    first_seed: int = 0  # the seeds run are first_seed .. first_seed + seeds - 1: a later run adds seeds to an
    # earlier one (every seed's draws and training seeds depend on the seed alone; bench/merge_seeds.py joins them)
    initial: int | None = None  # tasks in the seed set; default = batch
    batch: int | None = None  # tasks in the first acquisition round; default 2% of images / 1% of tiles
    growth: float = 2.5  # each round acquires growth x the previous batch
    size: int = 128  # well-log chart side
    pool: int | None = None  # default 100 well-log charts / the rest of a folder
    test: int | None = None  # default 40 / 25% of a folder
    val: int | None = None  # calibration split; default 20 / 10% of a folder
    steps: int | None = 150  # optimisation steps of every training run (equal compute); None: use epochs
    epochs: float | None = None  # passes over the labeled pixels per run instead (used when steps is None) ...
    min_steps: int = 100  # ... but never fewer steps than this
    train_batch: int = 8
    # validation-driven stopping: score the validation split every `eval_every` steps, keep the best
    # weights, stop after `patience` scores without gain; steps (or epochs) are then the most a run may
    # take, and max_seconds caps each run's wall time. 0 = fixed steps (equal compute for every run).
    eval_every: int = 0
    patience: int = 4
    max_seconds: float | None = None
    base_channels: int = 8  # U-Net width; the product's model is 16 (2x the cost). 8 keeps the default run
    # (2 strategies x 2 seeds) under 10 minutes on 2 CPU cores; bench/label_efficiency.py runs 16.
    lr: float = 1.2e-2  # measured at 150 steps from scratch, 100 charts, 3 seeds: fg mIoU 0.35 +-0.01 with
    # 8 channels at 1.2e-2, 0.22 +-0.06 at 2e-3 (curves swung by the seed); 16 channels do best at 6e-3
    crop: int | None = 64  # random training crop side (None = whole samples)
    score_subset: int = 64  # unlabeled images scored per round; 0 = all
    mc_samples: int = 8
    steered_share: float = 0.0
    decision_bias: bool = False  # argmax after per-class biases tuned on the validation split (decision.py)
    region_embeddings: bool = False  # hybrid/core-set diversity between tiles' own features (region units)
    target: float = 0.95
    # below this full-data fg mIoU the simulator refuses to report ratios: "95% of almost nothing" is
    # reached by any seed set (measured: a reference of 0.05 / 0.00 put every strategy at the target)
    min_reference: float = 0.1
    device: str = "cpu"
    data_seed: int = 0
    # levers of issue 11 (app/simulation/levers.py); the defaults are the runs measured before them
    redundancy: str = "none"  # well-log pool: none (independent charts) | moderate | high (welllog_pool)
    # start every run from a denoising-pretrained trunk, learned once per seed on the pool. Measured (150 charts
    # of 48 px, 100 pretraining steps, 150 fine-tuning steps, 5 seeds; bench/README.md, branch levers): it lowers
    # the full-data reference at every fine-tuning LR tried (1e-3 to 1.2e-2, encoder at 1x or 0.1x).
    pretrain: bool = False
    pretrain_steps: int = 300  # pretraining steps (once per seed, shared by every strategy and the reference)
    pseudo_labels: float | None = None  # accuracy the confidence bar must hold on the validation split's
    # reliability bins: pixels of unlabeled pool images above that bar join each round's training
    pseudo_background: float | None = None  # class-balanced pseudo-labels: at most this many background
    # pixels per foreground pixel in each pseudo-labelled image (0 = foreground only; None = all, as before).
    # Measured: at bar 0.98 the kept pixels were almost all paper and lowered the curves (bench/README.md)
    pseudo_per_class: bool = False  # one bar per class, off the validation pixels predicted as that class
    # (app.learning.pseudo.bars_per_predicted_class), instead of one bar off bins the paper dominates
    # Measured (run H): no curve class reached a bar at 0.98 or 0.90; paper-only pseudo-labels lowered the curves
    first_batch: str = "random"  # the seed set: a random draw, or "centroid": one pool image per k-means
    # cluster of the images' embeddings (app.simulation.levers.centroid_seed_set; image units only)

    def seed_ids(self) -> range:
        return range(self.first_seed, self.first_seed + self.seeds)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["strategies"] = list(self.strategies)
        return d


# The training recipe `labelwise simulate` uses on a folder unless told otherwise (the defaults above are
# the well-log charts' measured recipe). A user's data is not a chart: how long to train is read off its
# own validation split (best weights kept, stop after `patience` scores without gain), within 1500 steps.
# Measured on small shapes on clutter (1.5% foreground, 3 classes; bench/README.md, one seed): the chart
# recipe (150 steps, LR 1.2e-2) reached fg mIoU 0.14 with one class never found; 1000 fixed steps at LR 3e-3
# on whole 96 px images 0.51; validation-driven within 1500 steps (every 50, patience 6) 0.66, best weights
# at step 1100, stopped at 1400 (the validation curve rose steadily: no early plateau to fear at this
# patience). crop 128 keeps a step's cost bounded on large images.
REDUNDANCY_LEVELS = ("none", "moderate", "high")  # app.learning.welllog_pool.REDUNDANCY (no numpy import here)
FIRST_BATCH_RULES = ("random", "centroid")  # the seed set: app.simulation.levers.centroid_seed_set

FOLDER_RECIPE: dict[str, Any] = {"steps": 1500, "lr": 3e-3, "eval_every": 50, "patience": 10, "crop": 128}


def recipe_defaults(data: str) -> dict[str, Any]:
    """The training options a run on `data` gets when the caller does not set them."""
    base = SimConfig()
    chart = {"steps": base.steps, "lr": base.lr, "eval_every": base.eval_every, "patience": base.patience,
             "crop": base.crop}
    return chart if data == "welllog" else dict(FOLDER_RECIPE)


def check_config(cfg: SimConfig, known: Sequence[str]) -> None:
    """Raise SimulationInputError for an impossible option (before touching any file)."""
    bad = [s for s in cfg.strategies if s not in known]
    if not cfg.strategies or bad:
        raise SimulationInputError(f"--strategies: unknown {bad or 'none given'}; known: {', '.join(known)}")
    if len(set(cfg.strategies)) != len(cfg.strategies):
        raise SimulationInputError("--strategies: a strategy is listed twice")
    checks = [
        (cfg.unit in ("image", "region"), "--unit must be image or region"),
        (cfg.tile >= 8, "--tile must be at least 8"),
        (cfg.budget is None or 0 < cfg.budget <= 1, "--budget must be a fraction in (0, 1]"),
        (cfg.rounds is None or cfg.rounds >= 1, "--rounds must be at least 1"),
        (cfg.seeds >= 1, "--seeds must be at least 1"),
        (cfg.first_seed >= 0, "--first-seed must be at least 0"),
        (cfg.initial is None or cfg.initial >= 1, "--initial must be at least 1"),
        (cfg.batch is None or cfg.batch >= 1, "--batch must be at least 1"),
        (cfg.growth >= 1.0, "--growth must be at least 1"),
        (cfg.steps is None or cfg.steps >= 1, "--steps must be at least 1"),
        (cfg.epochs is None or cfg.epochs > 0, "--epochs must be > 0"),
        (cfg.min_steps >= 1, "--min-steps must be at least 1"),
        (cfg.eval_every >= 0, "--eval-every must be at least 0"),
        (cfg.patience >= 1, "--patience must be at least 1"),
        (cfg.max_seconds is None or cfg.max_seconds > 0, "--max-seconds must be > 0"),
        (cfg.steps is not None or cfg.epochs is not None, "give --steps or --epochs"),
        (cfg.crop is None or cfg.crop >= 16, "--crop must be at least 16"),
        (cfg.base_channels >= 2, "--base-channels must be at least 2"),
        (0 <= cfg.steered_share <= 1, "--steered-share must be in [0, 1]"),
        (0 < cfg.target <= 1, "--target must be in (0, 1]"),
        (0 <= cfg.min_reference < 1, "--min-reference must be in [0, 1)"),
        (cfg.redundancy in REDUNDANCY_LEVELS, f"--redundancy must be one of {', '.join(REDUNDANCY_LEVELS)}"),
        (cfg.redundancy == "none" or cfg.data == "welllog", "--redundancy applies to the well-log charts only"),
        (cfg.pretrain_steps >= 1, "--pretrain-steps must be at least 1"),
        (cfg.pseudo_labels is None or 0 < cfg.pseudo_labels <= 1, "--pseudo-labels must be an accuracy in (0, 1]"),
        (cfg.pseudo_background is None or cfg.pseudo_background >= 0, "--pseudo-background must be at least 0"),
        (cfg.pseudo_background is None or cfg.pseudo_labels is not None, "--pseudo-background needs --pseudo-labels"),
        (not cfg.pseudo_per_class or cfg.pseudo_labels is not None, "--pseudo-per-class needs --pseudo-labels"),
        (cfg.first_batch in FIRST_BATCH_RULES, f"--first-batch must be one of {', '.join(FIRST_BATCH_RULES)}"),
        # a tile's centroid pick would need per-tile embeddings and was never measured: refused, not guessed
        (cfg.first_batch == "random" or cfg.unit == "image", "--first-batch centroid works with --unit image only"),
        # TypiClust clusters whole images' descriptors: a tile's typicality was never measured
        ("typical" not in cfg.strategies or cfg.unit == "image", "--strategies typical works with --unit image only"),
        (cfg.device in ("cpu", "cuda") or cfg.device.startswith("cuda:"), "--device must be cpu or cuda"),
    ]
    for ok, message in checks:
        if not ok:
            raise SimulationInputError(message)
    if cfg.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise SimulationInputError("--device cuda: no CUDA device here")


def check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise SimulationInputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SimulationInputError(f"{out}: folder is not empty (use --force to replace it)")


def schedule(n_tasks: int, cfg: SimConfig, initial: int, batch: int) -> list[int]:
    """Cumulative labeled task counts per round, round 0 first, capped by pool, budget, rounds."""
    cap = n_tasks if cfg.budget is None else max(1, int(cfg.budget * n_tasks + 1e-9))
    counts = [min(initial, cap)]
    step = float(batch)
    while counts[-1] < cap and (cfg.rounds is None or len(counts) <= cfg.rounds):
        counts.append(min(cap, counts[-1] + max(1, int(round(step)))))
        step *= cfg.growth
    return counts


