"""The simulator's issue-11 levers on tiny runs: redundant pools, a pretrained start, pseudo-labels."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from app.learning.constants import IGNORE_INDEX
from app.learning.inference import logits_for, softmax
from app.learning.model import ModelConfig, UNet
from app.learning.welllog_pool import generate_pool
from app.simulation.cli import add_arguments, config_from_args
from app.simulation.config import SimulationInputError, check_config
from app.simulation.data import load_data
from app.simulation.levers import mix_samples, pseudo_samples
from app.simulation.run import SimConfig, run_simulation

# min_reference=0: these runs check the wiring, not learning (a few steps learn nothing)
TINY = SimConfig(strategies=("random", "entropy"), size=32, pool=20, test=3, val=3, rounds=1, seeds=1, steps=3,
                 train_batch=4, batch=2, crop=None, score_subset=6, mc_samples=2, min_reference=0.0)


def test_redundancy_draws_a_redundant_archive_and_none_stays_the_independent_charts() -> None:
    plain = load_data("welllog", pool=40, test=2, val=0, size=32)
    none = load_data("welllog", pool=40, test=2, val=0, size=32, redundancy="none")
    high = load_data("welllog", pool=40, test=2, val=0, size=32, redundancy="high")
    assert all(np.array_equal(a, b) for a, b in zip(plain.pool_images, none.pool_images, strict=True))
    archive = generate_pool(40, seed=1000, size=32, redundancy="high", archive_seed=0)  # its knobs: tests/learning
    assert all(np.array_equal(a, b) for a, b in zip(archive.images, high.pool_images, strict=True))
    assert not np.array_equal(high.pool_images[0], none.pool_images[0])


def test_pretrain_starts_every_run_from_the_pool_trunk(tmp_path: Path) -> None:
    one = replace(TINY, strategies=("random",))
    plain = run_simulation(one, tmp_path / "plain", plot=False)
    pre = run_simulation(replace(one, pretrain=True, pretrain_steps=2), tmp_path / "pre", plot=False)
    info = pre["levers"]["pretrain"]
    assert len(info) == 1 and info[0]["steps"] == 2 and info[0]["images"] == 20
    assert pre["timing"]["train_steps"] == plain["timing"]["train_steps"]  # the same fine-tuning compute
    assert pre["full_data"]["per_class_iou"] != plain["full_data"]["per_class_iou"]  # another start


def test_pretrain_on_a_pool_too_small_falls_back_to_end_to_end_and_says_so(tmp_path: Path) -> None:
    small = replace(TINY, pool=6, strategies=("random",))
    plain = run_simulation(small, tmp_path / "plain", plot=False)
    pre = run_simulation(replace(small, pretrain=True), tmp_path / "pre", plot=False)
    assert any("fewer than 20" in w and "end to end" in w for w in pre["warnings"])
    assert pre["full_data"]["miou_fg"] == plain["full_data"]["miou_fg"]  # the very same runs


def test_pseudo_labels_join_the_rounds_after_the_seed_set(tmp_path: Path) -> None:
    results = run_simulation(replace(TINY, pseudo_labels=0.05, steps=6), tmp_path / "pseudo", plot=False)
    for name in TINY.strategies:
        first, second = results["strategies"][name]["seeds"][0]
        assert "pseudo" not in first  # no model before the seed set
        info = second["pseudo"]
        assert info["bar"] is not None and info["images"] > 0 and 0 <= info["accuracy"] <= 1
        assert info["images"] <= 20 - second["labeled_tasks"]  # only images no task has touched


def test_pseudo_labels_never_keep_a_pixel_at_or_below_the_bar() -> None:
    data = load_data("welllog", pool=6, test=1, val=3, size=32)
    model = UNet.from_config(ModelConfig(num_classes=3, base_channels=4)).eval()
    with torch.no_grad():  # an untrained model leaning to the paper: confidences spread, mostly right
        model.classifier.bias.copy_(torch.tensor([1.5, 0.0, 0.0]))
    xs, ys, info = pseudo_samples(model, 1.0, 0.05, data.pool_images, data.pool_masks, data.val_images,
                                  data.val_masks, device="cpu")
    assert info["bar"] is not None and xs
    for image, mask in zip(xs, ys, strict=True):
        conf = softmax(logits_for(model, [image])[0], 1.0).max(0)
        assert (conf[mask != IGNORE_INDEX] > info["bar"]).all()
        assert (conf[mask == IGNORE_INDEX] <= info["bar"]).all()
    capped = pseudo_samples(model, 1.0, 0.05, data.pool_images, data.pool_masks, data.val_images, data.val_masks,
                            device="cpu", background_share=1.0)
    assert capped[2]["bar"] == info["bar"] and capped[2]["pixels"] <= 2 * capped[2]["foreground_pixels"]
    assert capped[2]["pixels"] < info["pixels"]  # the paper no longer dominates
    for mask in capped[1]:
        assert ((mask != 0) & (mask != IGNORE_INDEX)).any()  # no image of paper alone
    none = pseudo_samples(model, 1.0, 1.0, data.pool_images, data.pool_masks, data.val_images, data.val_masks,
                          device="cpu")
    assert none[0] == [] or none[2]["bar"] is not None  # an unreachable accuracy gives no bar, no pixels


def test_per_class_pseudo_labels_keep_each_pixel_above_its_class_bar_and_report_its_precision(
        tmp_path: Path) -> None:
    data = load_data("welllog", pool=6, test=1, val=3, size=32)
    model = UNet.from_config(ModelConfig(num_classes=3, base_channels=4)).eval()
    with torch.no_grad():  # as above: an untrained model leaning to the paper
        model.classifier.bias.copy_(torch.tensor([1.5, 0.0, 0.0]))
    xs, ys, info = pseudo_samples(model, 1.0, 0.05, data.pool_images, data.pool_masks, data.val_images,
                                  data.val_masks, device="cpu", per_class=True)
    bars = info["bars"]
    assert info["bar"] is None and len(bars) == 3 and bars[0] is not None and xs
    limit = np.array([np.inf if b is None else b for b in bars])
    for image, mask in zip(xs, ys, strict=True):
        probs = softmax(logits_for(model, [image])[0], 1.0)
        conf, pred = probs.max(0), probs.argmax(0)
        kept = mask != IGNORE_INDEX
        assert (conf[kept] > limit[pred[kept]]).all() and (conf[~kept] <= limit[pred[~kept]]).all()
    per_class = info["per_class"]
    assert sum(c["pixels"] for c in per_class.values()) == info["pixels"] > 0
    assert all(c["accuracy"] is None or 0 <= c["accuracy"] <= 1 for c in per_class.values())
    # and through the simulator: the rounds after the seed set record the class bars
    results = run_simulation(replace(TINY, strategies=("random",), pseudo_labels=0.05, pseudo_per_class=True),
                             tmp_path / "per-class", plot=False)
    second = results["strategies"]["random"]["seeds"][0][1]["pseudo"]
    assert second["bar"] is None and len(second["bars"]) == 3 and "per_class" in second


def test_mixed_samples_keep_the_labeled_half() -> None:
    a, b = np.zeros((2, 2, 3), np.uint8), np.ones((2, 2), np.uint8)
    xs, ys = mix_samples(([a, a], [b, b]), ([a] * 7, [b] * 7))
    assert len(xs) == len(ys) == 2 * 4 + 7
    assert mix_samples(([a], [b]), ([], [])) == ([a], [b])


def test_cli_flags_reach_the_config_and_bad_values_are_refused() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg = config_from_args(parser.parse_args(["--out", "x", "--redundancy", "high", "--pool", "300", "--pretrain",
                                              "--pretrain-steps", "50", "--pseudo-labels", "0.98",
                                              "--pseudo-background", "1", "--pseudo-per-class"]))
    assert (cfg.redundancy, cfg.pool, cfg.pretrain, cfg.pretrain_steps, cfg.pseudo_labels,
            cfg.pseudo_background, cfg.pseudo_per_class) == ("high", 300, True, 50, 0.98, 1.0, True)
    assert not config_from_args(parser.parse_args(["--out", "x", "--pseudo-labels", "0.98"])).pseudo_per_class
    with pytest.raises(SimulationInputError, match="--pseudo-per-class needs --pseudo-labels"):
        check_config(replace(cfg, pseudo_labels=None, pseudo_background=None), ["random", "hybrid"])
    with pytest.raises(SimulationInputError, match="--pseudo-background"):
        check_config(replace(cfg, pseudo_background=-0.5), ["random", "hybrid"])
    with pytest.raises(SimulationInputError, match="--pseudo-background"):
        check_config(replace(cfg, pseudo_labels=None), ["random", "hybrid"])
    with pytest.raises(SimulationInputError, match="--pseudo-labels"):
        check_config(replace(cfg, pseudo_labels=1.5), ["random", "hybrid"])
    with pytest.raises(SimulationInputError, match="--redundancy"):
        check_config(replace(cfg, data="/some/folder"), ["random", "hybrid"])
    with pytest.raises(SimulationInputError, match="--redundancy"):
        check_config(replace(cfg, redundancy="extreme"), ["random", "hybrid"])
